"""Reviewer pages: the queue of assigned proposals, and one proposal read-only with the review form
(one score per criterion with its comment, and a summary) sent to ``services.decisions.submit_review``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.enums import Criterion
from ...domain.errors import FieldError, InvalidInput, NotFound
from ...domain.proposals import Action, allowed
from ...domain.reviews import SCORE_MAX, SCORE_MIN, validate_scores
from ...services import decisions, proposals
from ..formats import number_text
from ..forms import field_errors, read_form
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer
from .proposals import proposal_view, review_view

router = APIRouter()
CRITERIA = [c.value for c in Criterion]
MAX_TEXT = 20_000
FORM_FIELDS = {f"score_{c}" for c in CRITERIA} | {f"comment_{c}" for c in CRITERIA} | {"summary"}
ALIASES = {f"scores.{c}": f"score_{c}" for c in CRITERIA}


@router.get("/reviews", response_class=HTMLResponse)
def review_queue(request: Request, viewer: SignedIn) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        items = decisions.review_queue(uow, viewer.actor)
        due = proposals.due_map(uow, viewer.ctx.clock, [p for _, p, _ in items])
        titles = {i: uow.calls.get(i).title for i in {p.call_id for _, p, _ in items}}
        rows = [
            {
                "id": p.id,
                "title": p.title,
                "call": titles[p.call_id],
                "status": p.status.value,
                "deadline": p.decision_deadline,
                "due": due[p.stored_id].value,
                "flags": list(p.ethics_flags),
                "reviewed": reviewed,
                "assigned_at": a.assigned_at,
            }
            for a, p, reviewed in items
        ]
    return render(request, viewer, "reviews/queue.html", rows=rows)


def _load(viewer: Viewer, proposal_id: int) -> tuple[dict[str, Any], dict[str, Any] | None, bool]:
    """The assigned proposal (404 for any other), the reviewer's own review if there is one, and whether the
    proposal's state allows a review."""
    with viewer.ctx.uow_factory(write=False) as uow:
        if not any(p.id == proposal_id for _, p, _ in decisions.review_queue(uow, viewer.actor)):
            raise NotFound(f"proposal {proposal_id} not found")
        p = proposals.get(uow, viewer.actor, proposal_id)
        view = proposal_view(uow, p)
        mine, _ = decisions.reviews_of(uow, viewer.actor, proposal_id)
        own = review_view(mine[0]) if mine else None
    return view, own, allowed(p.status, Action.REVIEW)


def _page(
    request: Request,
    viewer: Viewer,
    proposal_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    view, own, reviewable = _load(viewer, proposal_id)
    return render(
        request,
        viewer,
        "reviews/review.html",
        status=status,
        p=view,
        own=own,
        values=values,
        errors=errors,
        criteria=CRITERIA,
        score_range=(SCORE_MIN, SCORE_MAX),
        open=reviewable and own is None,
    )


@router.get("/reviews/{proposal_id:int}", response_class=HTMLResponse)
def review_page(request: Request, viewer: SignedIn, proposal_id: int) -> Response:
    return _page(request, viewer, proposal_id, {}, {})


def parse_review(form: dict[str, str], viewer: Viewer) -> tuple[dict[str, int], dict[str, str], str]:
    """Scores (an empty one is left out: the service names it as missing), comments and the summary."""
    t = viewer.t
    errs: list[FieldError] = []
    scores: dict[str, int] = {}
    comments: dict[str, str] = {}
    for c in CRITERIA:
        raw = form.get(f"score_{c}", "").strip()
        if raw and (not raw.isascii() or not raw.isdigit() or len(raw) > 3):
            errs.append(
                FieldError(
                    f"score_{c}",
                    t.gettext("enter a whole number from %(min)s to %(max)s", min=SCORE_MIN, max=SCORE_MAX),
                )
            )
        elif raw:
            scores[c] = int(raw)
        comment = form.get(f"comment_{c}", "").strip()
        if len(comment) > MAX_TEXT:
            errs.append(
                FieldError(f"comment_{c}", t.gettext("at most %(n)s characters", n=number_text(MAX_TEXT, t.lang)))
            )
        elif comment:
            comments[c] = comment
    summary = form.get("summary", "").strip()
    if len(summary) > MAX_TEXT:
        errs.append(FieldError("summary", t.gettext("at most %(n)s characters", n=number_text(MAX_TEXT, t.lang))))
    if errs:  # also name the scores the domain refuses, so that every problem shows at once
        try:
            validate_scores(scores)
        except InvalidInput as exc:
            named = {e.field for e in errs}
            errs += [e for e in exc.errors if ALIASES.get(e.field, e.field) not in named]
        raise InvalidInput(t.gettext("Please correct the marked fields."), errs)
    return scores, comments, summary


@router.post("/reviews/{proposal_id:int}", response_class=HTMLResponse)
async def submit_review(request: Request, viewer: SignedInChecked, proposal_id: int) -> Response:
    form = await read_form(request)
    try:
        scores, comments, summary = parse_review(form, viewer)
        with viewer.ctx.uow_factory(write=True) as uow:
            decisions.submit_review(
                uow, viewer.ctx.clock, viewer.actor, proposal_id, scores=scores, comments=comments, summary=summary
            )
    except InvalidInput as exc:
        values = {k: v for k, v in form.items() if k in FORM_FIELDS}
        return _page(request, viewer, proposal_id, values, field_errors(exc, FORM_FIELDS, ALIASES), status=422)
    return redirect(viewer, "/reviews", viewer.t.gettext("Thank you: your review is stored."))
