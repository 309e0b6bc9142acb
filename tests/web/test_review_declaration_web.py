"""The reviewer's declaration of interests on the portal: it comes before the scoring form; no conflict opens the
form, a conflict (with a note) recuses the reviewer. The operator's page shows each declaration, each review per
named criterion and the ethics flags in words; a call's page lists what it asks beyond the standard fields."""

from __future__ import annotations

import re

from tests.support.portal import Portal, WebClient, declare_no_conflict

SCORES = {"score_excellence": "4", "score_impact": "5", "score_feasibility": "3", "comment_impact": "Clear benefit."}
PANEL = "do you or your organization have a conflict of interest with this proposal"


def _assignment(portal: Portal, key: str, who: str):  # type: ignore[no-untyped-def]
    with portal.api.uow_factory(write=False) as uow:
        return uow.assignments.find(portal.api.pid(key), portal.api.user_id(who))


def _reviews(portal: Portal, key: str) -> list[object]:
    with portal.api.uow_factory(write=False) as uow:
        return list(uow.reviews.for_proposal(portal.api.pid(key)))


def _schulz(portal: Portal) -> tuple[WebClient, int]:
    return portal.browser("schulz"), portal.api.pid("medvision")


def test_the_reviewer_declares_interests_before_the_scoring_form_is_shown(portal: Portal) -> None:
    web, pid = _schulz(portal)
    page = web.get(f"/reviews/{pid}").text
    assert PANEL in page and f'action="/reviews/{pid}/declaration"' in page
    assert "I have no conflict of interest" in page and "I have a conflict of interest" in page
    assert 'name="score_excellence"' not in page  # no scoring before the declaration
    queue = web.get("/reviews").text
    assert 'data-declaration="needed"' in queue and "declaration needed" in queue
    # the whole proposal is there to judge: team, partners, resource, ethics, the call's own questions' answers
    for seen in ("Team", "Partner organizations", "Resource", "Ethics notes", "health data", "high risk"):
        assert seen in page
    assert "Work plan" in page and "de-identify and curate 120,000 radiographs" in page
    assert "Data readiness" in page and "Ready and accessible" in page


def test_scores_sent_before_any_declaration_are_refused(portal: Portal) -> None:
    web, pid = _schulz(portal)
    r = web.post(f"/reviews/{pid}", SCORES)
    assert r.status_code == 409 and "declare your interests first" in r.text
    assert _reviews(portal, "medvision") == []


def test_declaring_no_conflict_opens_the_form_and_the_review_is_stored(portal: Portal) -> None:
    web, pid = _schulz(portal)
    r = web.post(f"/reviews/{pid}/declaration", {"conflict": "no"})
    assert r.status_code == 303 and r.headers["location"] == f"/reviews/{pid}"
    a = _assignment(portal, "medvision", "schulz")
    assert a.declared_at is not None and a.conflict is False and not a.recused
    page = web.get(f"/reviews/{pid}").text
    assert "You declared no conflict of interest on" in page and PANEL not in page
    assert 'name="score_excellence"' in page
    assert 'data-declaration="declared"' in web.get("/reviews").text
    r = web.post(f"/reviews/{pid}", SCORES)
    assert r.status_code == 303 and r.headers["location"] == "/reviews"
    (review,) = _reviews(portal, "medvision")
    assert (review.score_excellence, review.score_impact, review.score_feasibility) == (4, 5, 3)  # type: ignore[attr-defined]
    # declared once: a second declaration is refused, nothing changes
    assert web.post(f"/reviews/{pid}/declaration", {"conflict": "yes", "note": "x"}).status_code == 409
    assert _assignment(portal, "medvision", "schulz").conflict is False


def test_a_conflict_without_a_note_is_refused_next_to_the_field(portal: Portal) -> None:
    web, pid = _schulz(portal)
    before = portal.api.counts()
    r = web.post(f"/reviews/{pid}/declaration", {"conflict": "yes", "note": "   "})
    assert r.status_code == 422
    assert re.search(r'id="f-note"[^>]*aria-invalid="true"', r.text)
    assert 'id="e-note"' in r.text and "say in a few words what the conflict is" in r.text
    assert 'name="score_excellence"' not in r.text
    r = web.post(f"/reviews/{pid}/declaration", {"conflict": "maybe"})
    assert r.status_code == 422 and 'id="e-conflict"' in r.text
    assert _assignment(portal, "medvision", "schulz").declared_at is None
    assert portal.api.counts() == before


def test_a_declared_conflict_recuses_the_reviewer(portal: Portal) -> None:
    web, pid = _schulz(portal)
    note = "I advised MedVision until last spring <b>"
    r = web.post(f"/reviews/{pid}/declaration", {"conflict": "yes", "note": note})
    assert r.status_code == 303
    a = _assignment(portal, "medvision", "schulz")
    assert a.recused and a.conflict_note == note.strip()
    page = web.get(f"/reviews/{pid}").text
    assert "You are recused from this proposal." in page and "an operator will assign someone else" in page
    assert "I advised MedVision until last spring &lt;b&gt;" in page
    assert 'name="score_excellence"' not in page and PANEL not in page
    assert 'data-declaration="recused"' in web.get("/reviews").text
    r = web.post(f"/reviews/{pid}", SCORES)
    assert r.status_code == 403 and _reviews(portal, "medvision") == []
    assert web.post(f"/reviews/{pid}/declaration", {"conflict": "no"}).status_code == 409
    assert _assignment(portal, "medvision", "schulz").recused


def test_only_the_assigned_reviewer_may_declare_and_only_from_the_page(portal: Portal) -> None:
    web, pid = _schulz(portal)
    forged = web.client.post(f"/reviews/{pid}/declaration", data={"conflict": "no"}, follow_redirects=False)
    assert forged.status_code == 403 and "Form refused" in forged.text  # no CSRF token
    assert portal.browser("novak").post(f"/reviews/{pid}/declaration", {"conflict": "no"}).status_code == 404
    assert portal.browser("claire").post(f"/reviews/{pid}/declaration", {"conflict": "no"}).status_code == 403
    assert _assignment(portal, "medvision", "schulz").declared_at is None


def test_operator_page_shows_declarations_flags_in_words_and_named_criteria(portal: Portal) -> None:
    op, pid = portal.browser("operator"), portal.api.pid("medvision")
    page = op.get(f"/operator/proposals/{pid}").text
    assert "Schulz" in page and "no declaration of interests yet" in page
    flags = re.search(r'id="ethics-flags">(.*?)</dd>', page, re.S)
    assert flags and "high risk" in flags.group(1) and "health data" in flags.group(1)
    assert "risk:high" not in page and "personal_data" not in page and "health_data" not in page
    assert "Work plan" in page and "de-identify and curate 120,000 radiographs" in page  # the whole proposal
    assert 'id="reviewer-needed"' not in page  # one reviewer required, one assigned who may still review

    web = portal.browser("schulz")
    declare_no_conflict(web, pid)
    assert web.post(f"/reviews/{pid}", {**SCORES, "summary": "Sound plan."}).status_code == 303
    page = op.get(f"/operator/proposals/{pid}").text
    assert "declared no conflict of interest on" in page
    review = page[page.index('id="h-reviews"') : page.index('id="h-full"')]
    for row in (r"Excellence</th><td[^>]*>4/5</td><td>–", r"Impact</th><td[^>]*>5/5</td><td>Clear benefit\.</td>"):
        assert re.search(row, review), row
    assert "Feasibility" in review and "Sound plan." in review and "Schulz" in review


def test_operator_page_shows_a_recusal_and_asks_for_another_reviewer(portal: Portal) -> None:
    pid = portal.api.pid("medvision")
    web = portal.browser("schulz")
    assert web.post(f"/reviews/{pid}/declaration", {"conflict": "yes", "note": "Former employer"}).status_code == 303
    page = portal.browser("operator").get(f"/operator/proposals/{pid}").text
    assert "(recused)" in page and "Former employer" in page
    assert 'id="reviewer-needed"' in page and "A recused reviewer does not count." in page
    assert f'action="/operator/proposals/{pid}/reviewers"' in page  # another reviewer can be assigned
    operator = portal.browser("operator")
    operator.client.cookies.set("aif_lang", "de")
    inbox = operator.get("/inbox").text  # the operators are told, in their language
    assert "Prof. Maria Schulz hat beim Antrag" in inbox and "einen Interessenkonflikt erklärt" in inbox


def test_call_page_lists_the_calls_own_questions(portal: Portal) -> None:
    large = portal.api.info.call_ids["large_scale"]
    page = portal.browser().get(f"/calls/{large}").text
    asked = page[page.index('id="call-questions"') :]
    assert "Work plan" in asked and "Milestones" in asked and "Code readiness" in asked
    assert re.search(r"Supporting document \(PDF\)</strong>\s*\(optional; one PDF up to 10\.0 MiB\)", asked)
    assert re.search(r"Work plan</strong>\s*\(required; up to 10,000 characters\)", asked)
    assert "one of: Ready and accessible / Partly available / Not yet available" in asked
    web = portal.browser()
    web.client.cookies.set("aif_lang", "de")
    german = web.get(f"/calls/{large}").text
    assert "Arbeitsplan" in german and "Ergänzendes Dokument (PDF)" in german
    assert "erforderlich; bis 10.000 Zeichen" in german and "eine PDF-Datei bis 10,0 MiB" in german
