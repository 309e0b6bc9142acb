"""The wizard's plan step on the portal: the call's own questions in the reader's language, milestones, a PDF
uploaded through a plain form (no JavaScript), and steps checked as the applicant goes."""

from __future__ import annotations

from tests.support.portal import Portal
from tests.web.test_proposals_web import _new_draft

PDF = b"%PDF-1.4\n%%EOF\n"


def _plan(portal: Portal, web, pid: int):  # type: ignore[no-untyped-def]
    with portal.api.uow_factory(write=False) as uow:
        p = uow.proposals.get(pid)
        return dict(p.answers), [a.filename for a in uow.attachments.for_proposal(pid)]


def test_a_large_scale_plan_step_asks_the_calls_questions_and_keeps_the_answers(portal: Portal) -> None:
    web = portal.browser("eva")
    pid = _new_draft(portal, web, mode="large_scale", title="City twin")
    page = web.get(f"/proposals/{pid}/edit?step=4")
    assert "4. Plan and documents" in page.text and "6. Review and submit" in page.text
    for title in ("Work plan", "Milestones", "Data readiness", "Code readiness", "Expected impact"):
        assert title in page.text
    assert 'enctype="multipart/form-data"' in page.text and "PDF, at most 10.0 MiB" in page.text
    r = web.post(
        f"/proposals/{pid}/edit?step=4",
        {
            "answers.work_plan": "Phase 1: collect. Phase 2: train.",
            "answers.milestones.0.month": "3",
            "answers.milestones.0.title": "Data collected",
            "answers.milestones.1.month": "soon",
            "answers.milestones.1.title": "Model trained",
            "go": "stay",
        },
    )
    assert r.status_code == 422 and "enter the project month" in r.text  # nothing saved
    assert _plan(portal, web, pid)[0] == {}
    r = web.post(
        f"/proposals/{pid}/edit?step=4",
        {
            "answers.work_plan": "Phase 1: collect. Phase 2: train.",
            "answers.milestones.0.month": "3",
            "answers.milestones.0.title": "Data collected",
            "answers.data_readiness": "Partly available",
            "go": "next",
        },
    )
    assert r.status_code == 422 and "not complete yet" in r.text  # saved; code readiness etc. still missing
    assert "Code readiness" in r.text and "an answer is required" in r.text
    answers, _ = _plan(portal, web, pid)
    assert answers["milestones"] == [{"month": 3, "title": "Data collected"}]
    assert answers["data_readiness"] == "Partly available"
    web.post("/lang", {"lang": "de", "next": "/"})
    german = web.get(f"/proposals/{pid}/edit?step=4").text
    assert "Arbeitsplan" in german and "Meilensteine" in german and "Teilweise vorhanden" in german


def test_a_pdf_is_uploaded_shown_downloaded_and_removed_without_javascript(portal: Portal) -> None:
    web = portal.browser("eva")
    pid = _new_draft(portal, web, mode="large_scale", title="City twin")
    web.get(f"/proposals/{pid}/edit?step=4")
    url = f"/proposals/{pid}/attachments/attachment"
    r = web.post(url, files={"file": ("notes.txt", b"plain text", "text/plain")})
    assert r.status_code == 422 and "only PDF files" in r.text
    r = web.post(url, files={"file": ("Plan 2027.pdf", PDF, "application/pdf")})
    assert r.status_code == 303 and r.headers["location"].endswith("step=4#attach-attachment")
    assert _plan(portal, web, pid)[1] == ["Plan 2027.pdf"]
    page = web.get(f"/proposals/{pid}/edit?step=4").text
    assert "Plan 2027.pdf" in page and f'href="{url}"' in page
    got = web.get(url)
    assert got.status_code == 200 and got.content == PDF
    assert portal.browser("claire").get(url).status_code == 404  # another organization
    no_token = web.client.post(url, files={"file": ("x.pdf", PDF, "application/pdf")}, follow_redirects=False)
    assert no_token.status_code in (400, 403)
    assert web.client.post(f"{url}/delete", follow_redirects=False).status_code in (400, 403)  # no CSRF token
    assert _plan(portal, web, pid)[1] == ["Plan 2027.pdf"]
    assert web.post(f"{url}/delete").status_code == 303
    assert _plan(portal, web, pid)[1] == []
