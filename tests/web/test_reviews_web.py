"""The reviewer's pages: the queue of assigned proposals, the proposal read-only with the review form, scores
validated next to their fields, reviews stored through the service, and nothing shown to anyone else."""

from __future__ import annotations

import re

from tests.support.portal import Portal, declare_no_conflict

XSS = '<script>alert("x")</script>'


def _no_raw_script(html: str) -> bool:
    return "<script>" not in html.replace('<script src="/static/', "")


def _reviews(portal: Portal, key: str):  # type: ignore[no-untyped-def]
    with portal.api.uow_factory(write=False) as uow:
        return uow.reviews.for_proposal(portal.api.pid(key))


VALID = {
    "score_excellence": "4",
    "score_impact": "5",
    "score_feasibility": "3",
    "comment_impact": "Clear clinical benefit.",
    "summary": "Sound plan; check the data protection.",
}


def test_queue_shows_only_the_proposals_assigned_to_the_reviewer(portal: Portal) -> None:
    schulz = portal.browser("schulz").get("/reviews").text
    assert "chest X-ray triage" in schulz and f'href="/reviews/{portal.api.pid("medvision")}"' in schulz
    for other in ("grid load forecasting", "World models", "Bake less waste", "citizen services"):
        assert other not in schulz
    novak = portal.browser("novak").get("/reviews").text
    assert "grid load forecasting" in novak and "chest X-ray triage" not in novak
    assert "No proposals are assigned to you." in portal.browser("anna").get("/reviews").text


def test_review_page_shows_the_proposal_read_only_with_one_score_per_criterion(portal: Portal) -> None:
    web, pid = portal.browser("schulz"), portal.api.pid("medvision")
    declare_no_conflict(web, pid)
    page = web.get(f"/reviews/{pid}")
    assert page.status_code == 200
    assert "Fine-tune a vision transformer" in page.text and "health data" in page.text
    for c in ("excellence", "impact", "feasibility"):
        assert f'name="score_{c}"' in page.text and f'name="comment_{c}"' in page.text
    assert 'name="title"' not in page.text  # nothing of the proposal is editable here


def test_unassigned_proposals_are_not_found(portal: Portal) -> None:
    schulz, claire, novak = portal.browser("schulz"), portal.browser("claire"), portal.browser("novak")
    before = portal.api.counts()
    assert schulz.get(f"/reviews/{portal.api.pid('gridwise')}").status_code == 404
    assert schulz.get("/reviews/987654").status_code == 404
    assert claire.get(f"/reviews/{portal.api.pid('medvision')}").status_code == 404
    assert claire.post(f"/reviews/{portal.api.pid('medvision')}", VALID).status_code == 403
    assert novak.post(f"/reviews/{portal.api.pid('medvision')}", VALID).status_code == 404  # not even confirmed
    assert portal.api.counts() == before


def test_out_of_range_or_non_numeric_scores_are_refused_next_to_their_field(portal: Portal) -> None:
    web = portal.browser("schulz")
    pid = portal.api.pid("medvision")
    declare_no_conflict(web, pid)
    before = portal.api.counts()
    r = web.post(f"/reviews/{pid}", {**VALID, "score_impact": "9"})
    assert r.status_code == 422
    assert re.search(r'id="f-score_impact"[^>]*aria-invalid="true"', r.text)
    assert 'id="e-score_impact"' in r.text and "between 1 and 5" in r.text
    assert 'id="e-score_excellence"' not in r.text
    assert "Clear clinical benefit." in r.text  # what was typed stays
    r = web.post(f"/reviews/{pid}", {**VALID, "score_excellence": "four", "score_feasibility": ""})
    assert r.status_code == 422
    assert 'id="e-score_excellence"' in r.text and 'id="e-score_feasibility"' in r.text
    assert portal.api.counts() == before and _reviews(portal, "medvision") == []


def test_a_valid_review_is_stored_and_shown_escaped(portal: Portal) -> None:
    web = portal.browser("schulz")
    pid = portal.api.pid("medvision")
    declare_no_conflict(web, pid)
    r = web.post(f"/reviews/{pid}", {**VALID, "comment_excellence": XSS, "summary": XSS})
    assert r.status_code == 303 and r.headers["location"] == "/reviews"
    (review,) = _reviews(portal, "medvision")
    assert (review.score_excellence, review.score_impact, review.score_feasibility) == (4, 5, 3)
    assert review.comment_excellence == XSS and review.comment_impact == "Clear clinical benefit."
    assert review.summary == XSS and review.reviewer_id == portal.api.user_id("schulz")
    assert "done" in web.get("/reviews").text
    page = web.get(f"/reviews/{pid}")
    assert "&lt;script&gt;" in page.text and _no_raw_script(page.text)
    assert 'name="score_excellence"' not in page.text  # reviewed: no second form
    assert web.post(f"/reviews/{pid}", VALID).status_code == 409
    assert len(_reviews(portal, "medvision")) == 1
    op = portal.browser("operator").get(f"/proposals/{pid}")
    assert op.status_code == 200 and _no_raw_script(op.text) and "&lt;script&gt;" in op.text
