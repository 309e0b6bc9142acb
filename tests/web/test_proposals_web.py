"""The applicant's pages: list, new draft, the wizard step by step, submission, withdrawal, the proposal's page;
validation next to the fields, escaping of every text, and isolation of other organizations' proposals."""

from __future__ import annotations

import re

from aifactory.domain.enums import ProposalStatus, RiskCategory
from tests.support.portal import Portal, WebClient

XSS = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;"


def _new_draft(portal: Portal, web: WebClient, mode: str = "fast_lane", title: str = "Sourdough forecasting") -> int:
    call_id = portal.api.info.call_ids[mode]
    page = web.get(f"/proposals/new?call={call_id}")
    assert page.status_code == 200 and f'value="{call_id}" required checked' in page.text
    r = web.post("/proposals/new", {"call": str(call_id), "title": title})
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/proposals/(\d+)/edit\?step=1", r.headers["location"])
    assert match, r.headers["location"]
    return int(match.group(1))


def _proposal(portal: Portal, pid: int):  # type: ignore[no-untyped-def]
    with portal.api.uow_factory(write=False) as uow:
        p = uow.proposals.get(pid)
        return p, list(p.partner_organization_ids), [dict(m) for m in p.team]


def test_list_shows_the_organizations_proposals_with_status_and_decision_reason(portal: Portal) -> None:
    web = portal.browser("daan")
    page = web.get("/proposals")
    assert page.status_code == 200
    assert "Short-term grid load forecasting" in page.text and "AI Factory Fast Lane" in page.text
    assert "state-accepted" in page.text and "award reduced to match the two-month plan" in page.text
    assert "Bake less waste" not in page.text  # another organization's


def test_full_wizard_from_new_draft_to_submitted(portal: Portal) -> None:
    web = portal.browser("eva")
    api = portal.api
    pid = _new_draft(portal, web)
    step1 = web.get(f"/proposals/{pid}/edit?step=1")
    assert '<li aria-current="step">1.' in step1.text and 'class="steps"' in step1.text
    r = web.post(
        f"/proposals/{pid}/edit?step=1",
        {
            "title": "Citizen-service assistant",
            "abstract": "Answer questions about municipal services in German.",
            "application_field": "education",
            "go": "next",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/proposals/{pid}/edit?step=2"
    partner = api.info.org_ids["Forschungszentrum Nord"]
    step2 = web.get(f"/proposals/{pid}/edit?step=2").text
    assert f'value="{partner}"' not in step2 and "MedVision" not in step2  # no list of every organization
    r = web.post(
        f"/proposals/{pid}/edit?step=2",
        {
            "team-0-name": "Eva Schmitz",
            "team-0-email": "Eva@Juelich.example",
            "team-0-role": "PI",
            "partner_add": "forschungszentrum nord",  # its exact name (case aside), or its id
        },
    )
    assert r.status_code == 303 and r.headers["location"].endswith("step=3")
    assert f'value="{partner}" checked' in web.get(f"/proposals/{pid}/edit?step=2").text
    r = web.post(
        f"/proposals/{pid}/edit?step=3",
        {"resource_id": str(api.info.resource_ids["develop"]), "requested_gpu_hours": "12,000", "duration_months": "2"},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("step=4")
    plan = web.get(f"/proposals/{pid}/edit?step=4").text  # the fast lane asks a work plan and the data's state
    assert '<li aria-current="step">4. Plan and documents' in plan and "Work plan" in plan
    r = web.post(f"/proposals/{pid}/edit?step=4", {"answers.data_readiness": "Partly available"})
    assert r.status_code == 422 and "not complete yet" in r.text  # saved, but the work plan is missing
    assert 'value="Partly available" checked' in r.text and "an answer is required" in r.text
    work_plan = "Index the city's 3,000 service pages, then fine-tune a 7B model on 10,000 questions."
    r = web.post(
        f"/proposals/{pid}/edit?step=4",
        {"answers.work_plan": work_plan, "answers.data_readiness": "Partly available"},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("step=5")
    r = web.post(
        f"/proposals/{pid}/edit?step=5",
        {"risk_category": "limited", "personal_data": "on", "ethics_notes": "Only public documents.", "go": "stay"},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("step=5")
    review = web.get(f"/proposals/{pid}/edit?step=6")
    assert "Citizen-service assistant" in review.text and "12,000" in review.text
    assert "fine-tune a 7B model" in review.text and "Partly available" in review.text
    assert "Forschungszentrum Nord" in review.text and "eva@juelich.example" in review.text
    r = web.post(f"/proposals/{pid}/submit")  # the partner has not confirmed: its admin is asked now
    assert r.status_code == 303 and r.headers["location"] == f"/proposals/{pid}"
    waiting = web.get(f"/proposals/{pid}")
    assert "must confirm first" in waiting.text and 'data-consent-state="requested"' in waiting.text
    assert _proposal(portal, pid)[0].status is ProposalStatus.DRAFT
    lars = portal.browser("lars")  # Forschungszentrum Nord's admin
    (asked,) = [c for c in api.ok("GET", "/consents", "lars") if c["proposal_id"] == pid]
    page = lars.get("/organization")
    assert "Citizen-service assistant" in page.text and f'data-consent="{asked["id"]}"' in page.text
    assert lars.post(f"/organization/consents/{asked['id']}", {"answer": "confirm"}).status_code == 303
    assert 'data-consent-state="confirmed"' in web.get(f"/proposals/{pid}").text
    r = web.post(f"/proposals/{pid}/submit")
    assert r.status_code == 303 and r.headers["location"] == f"/proposals/{pid}"
    p, partners, team = _proposal(portal, pid)
    assert p.status is ProposalStatus.SUBMITTED and p.decision_deadline is not None
    assert (p.title, p.application_field.value, p.requested_gpu_hours, p.duration_months) == (
        "Citizen-service assistant",
        "education",
        12_000,
        2,
    )
    assert p.resource_id == api.info.resource_ids["develop"] and partners == [partner]
    assert team == [{"name": "Eva Schmitz", "email": "eva@juelich.example", "role": "PI"}]
    assert p.risk_category is RiskCategory.LIMITED and p.personal_data and not p.health_data
    assert p.answers == {"work_plan": work_plan, "data_readiness": "Partly available"}
    detail = web.get(f"/proposals/{pid}")
    assert "state-submitted" in detail.text and "Your proposal is submitted" in detail.text


def test_playground_submission_is_accepted_at_once_and_links_the_project(portal: Portal) -> None:
    web = portal.browser("eva")
    pid = portal.api.pid("juelich")
    r = web.post(f"/proposals/{pid}/submit")
    assert r.status_code == 303
    page = web.get(f"/proposals/{pid}")
    project = portal.api.project_of("juelich")
    assert "state-accepted" in page.text and f'href="/projects/{project}"' in page.text


def test_validation_errors_are_shown_next_to_the_field_and_nothing_is_written(portal: Portal) -> None:
    web = portal.browser("eva")
    pid = portal.api.pid("juelich")
    before = portal.api.counts()
    r = web.post(
        f"/proposals/{pid}/edit?step=3", {"resource_id": "1", "requested_gpu_hours": "lots", "duration_months": "2"}
    )
    assert r.status_code == 422
    assert re.search(r'id="f-requested_gpu_hours"[^>]*aria-invalid="true"', r.text)
    assert 'id="e-requested_gpu_hours"' in r.text and "enter a whole number" in r.text
    assert 'value="lots"' in r.text  # what was typed stays
    r = web.post(
        f"/proposals/{pid}/edit?step=3", {"resource_id": "99999", "requested_gpu_hours": "100", "duration_months": "2"}
    )
    assert r.status_code == 422 and re.search(r'id="f-resource_id"[^>]*aria-invalid="true"', r.text)
    r = web.post(f"/proposals/{pid}/edit?step=2", {"team-0-email": "not-an-address", "partner_organization_ids": "x"})
    assert r.status_code == 422
    assert 'id="e-team-0-name"' in r.text and 'id="e-team-0-email"' in r.text
    assert 'id="e-partner_organization_ids"' in r.text
    r = web.post(f"/proposals/{pid}/edit?step=1", {"title": "x" * 301, "abstract": "", "application_field": "moon"})
    assert r.status_code == 422 and 'id="e-title"' in r.text and 'id="e-application_field"' in r.text
    assert portal.api.counts() == before
    p, _, _ = _proposal(portal, pid)
    assert p.requested_gpu_hours == 300 and p.title == "Chatbot for citizen services (draft)" and p.version == 1


def test_submit_errors_go_to_the_step_of_their_field(portal: Portal) -> None:
    web = portal.browser("eva")
    pid = _new_draft(portal, web, title="")
    before = portal.api.counts()
    r = web.post(f"/proposals/{pid}/submit")
    assert r.status_code == 422
    assert '<li aria-current="step">1.' in r.text and re.search(r'id="f-title"[^>]*aria-invalid="true"', r.text)
    web.post(
        f"/proposals/{pid}/edit?step=1",
        {"title": "Forecasts", "abstract": "A long enough abstract for it.", "application_field": "food"},
    )
    web.post(
        f"/proposals/{pid}/edit?step=3",
        {
            "resource_id": str(portal.api.info.resource_ids["booster"]),
            "requested_gpu_hours": "90000",
            "duration_months": "2",
        },
    )
    r = web.post(f"/proposals/{pid}/submit")
    assert r.status_code == 422 and '<li aria-current="step">3.' in r.text
    assert re.search(r'id="f-requested_gpu_hours"[^>]*aria-invalid="true"', r.text)
    assert "outside this call" in r.text
    assert _proposal(portal, pid)[0].status is ProposalStatus.DRAFT
    assert portal.api.counts()["audit_events"] == before["audit_events"] + 2  # the two saves, no submission


def test_every_text_field_is_escaped_on_every_page(portal: Portal) -> None:
    web = portal.browser("eva")
    pid = _new_draft(portal, web, mode="fast_lane", title=XSS)
    web.post(
        f"/proposals/{pid}/edit?step=1",
        {"title": XSS, "abstract": XSS + " a long enough abstract", "application_field": "other"},
    )
    web.post(f"/proposals/{pid}/edit?step=2", {"team-0-name": XSS, "team-0-email": "x@example.org", "team-0-role": XSS})
    web.post(
        f"/proposals/{pid}/edit?step=4", {"answers.work_plan": XSS, "answers.data_readiness": "Ready and accessible"}
    )
    web.post(f"/proposals/{pid}/edit?step=5", {"risk_category": "minimal", "ethics_notes": XSS})
    pages = [web.get(f"/proposals/{pid}/edit?step={n}") for n in range(1, 7)]
    pages += [web.get("/proposals"), web.get(f"/proposals/{pid}")]
    pages.append(web.post(f"/proposals/{pid}/edit?step=1", {"title": XSS * 50, "application_field": "other"}))
    pages.append(web.post(f"/proposals/{pid}/edit?step=2", {"team-0-name": XSS, "team-0-email": XSS}))
    pages.append(web.post("/proposals/new", {"call": "424242", "title": XSS}))
    for page in pages:
        assert page.status_code in (200, 422)
        assert "<script>" not in page.text.replace('<script src="/static/', "")
    assert ESCAPED in pages[0].text and ESCAPED in pages[1].text and ESCAPED in pages[4].text
    assert ESCAPED in pages[3].text and pages[5].text.count(ESCAPED) >= 3  # the work plan too
    r = web.post(f"/proposals/{pid}/submit")
    assert r.status_code == 303
    op = portal.browser("operator")
    assert "<script>" not in op.get(f"/proposals/{pid}").text.replace('<script src="/static/', "")


def test_someone_elses_proposal_is_not_found_and_nothing_is_written(portal: Portal) -> None:
    web = portal.browser("eva")
    other = portal.api.pid("medvision")
    before = portal.api.counts()
    for path in (f"/proposals/{other}", f"/proposals/{other}/edit?step=1", "/proposals/987654"):
        assert web.get(path).status_code == 404, path
    for path, data in (
        (f"/proposals/{other}/edit?step=1", {"title": "Mine now", "application_field": "other"}),
        (f"/proposals/{other}/submit", {}),
        (f"/proposals/{other}/withdraw", {}),
    ):
        r = web.post(path, data)
        assert r.status_code == 404 and "Mine now" not in r.text, path
    assert portal.api.counts() == before
    assert _proposal(portal, other)[0].status is ProposalStatus.UNDER_REVIEW


def test_a_partner_sees_the_proposal_but_cannot_change_it(portal: Portal) -> None:
    web = portal.browser("lars")
    pid = portal.api.pid("bakery")
    page = web.get(f"/proposals/{pid}")
    assert page.status_code == 200 and "Withdraw" not in page.text
    assert web.post(f"/proposals/{pid}/withdraw").status_code == 403


def test_unknown_or_closed_call_gives_a_message_and_writes_nothing(portal: Portal) -> None:
    web = portal.browser("eva")
    before = portal.api.counts()
    page = web.get("/proposals/new?call=424242")
    assert page.status_code == 404 and "not open" in page.text
    assert "AI Factory Playground" in page.text  # the open calls to choose from
    r = web.post("/proposals/new", {"call": "424242", "title": "x"})
    assert r.status_code == 422 and 'id="e-call"' in r.text
    r = web.post("/proposals/new", {"call": "abc", "title": "x"})
    assert r.status_code == 422
    assert portal.api.counts() == before


def test_withdraw_a_submitted_proposal(portal: Portal) -> None:
    web = portal.browser("marco")
    pid = portal.api.pid("autonomia")
    assert "Withdraw" in web.get(f"/proposals/{pid}").text
    r = web.post(f"/proposals/{pid}/withdraw")
    assert r.status_code == 303
    assert _proposal(portal, pid)[0].status is ProposalStatus.WITHDRAWN
    assert web.post(f"/proposals/{pid}/withdraw").status_code == 409
    assert web.get(f"/proposals/{pid}/edit?step=1", follow_redirects=False).status_code == 303  # not a draft


def test_pages_are_in_german(portal: Portal) -> None:
    web = portal.browser("eva")
    pid = portal.api.pid("juelich")
    web.get("/")
    web.post("/lang", {"lang": "de", "next": "/"})
    page = web.get(f"/proposals/{pid}/edit?step=3")
    assert "Ressourcen" in page.text and "Entwurf speichern" in page.text
    assert "Anträge" in web.get("/proposals").text
