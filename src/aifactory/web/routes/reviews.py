"""Reviewer pages: the queue of assigned proposals, and one proposal read-only with, first, the declaration of
interests (``services.decisions.declare_interests``: no conflict, or a conflict that recuses the reviewer), then
the review form (one score per criterion with its comment, and a summary) sent to
``services.decisions.submit_review``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.enums import Criterion
from ...domain.errors import FieldError, InvalidInput, NotFound
from ...domain.proposals import Action, allowed
from ...domain.reviews import SCORE_MAX, SCORE_MIN, ReviewAssignment, validate_scores
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
DECLARATION_FIELDS = {"conflict", "note"}


def declaration_state(a: ReviewAssignment, reviewable: bool = True) -> str:
    """``recused`` (a conflict declared), ``declared`` (no conflict), ``needed`` (nothing declared yet, while the
    proposal can be reviewed) or ``none`` (nothing declared, and too late to)."""
    if a.recused:
        return "recused"
    if a.declared_at is not None:
        return "declared"
    return "needed" if reviewable else "none"


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
                "declaration": declaration_state(a, allowed(p.status, Action.REVIEW)),
                "assigned_at": a.assigned_at,
            }
            for a, p, reviewed in items
        ]
    return render(request, viewer, "reviews/queue.html", rows=rows)


def _load(viewer: Viewer, proposal_id: int) -> dict[str, Any]:
    """The assigned proposal (404 for any other), the reviewer's declaration and own review if there is one, and
    whether the proposal's state allows a review."""
    with viewer.ctx.uow_factory(write=False) as uow:
        mine = [a for a, p, _ in decisions.review_queue(uow, viewer.actor) if p.id == proposal_id]
        if not mine:
            raise NotFound(f"proposal {proposal_id} not found")
        p = proposals.get(uow, viewer.actor, proposal_id)
        view = proposal_view(uow, p, viewer.t.lang)
        reviews, _ = decisions.reviews_of(uow, viewer.actor, proposal_id)
        own = review_view(reviews[0]) if reviews else None
    a = mine[0]
    declaration = {"state": declaration_state(a), "at": a.declared_at, "note": a.conflict_note}
    return {"p": view, "own": own, "declaration": declaration, "reviewable": allowed(p.status, Action.REVIEW)}


def _page(
    request: Request,
    viewer: Viewer,
    proposal_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    declaring: dict[str, str] | None = None,
) -> Response:
    """``errors`` of the review form, ``declaring`` of the declaration's form."""
    data = _load(viewer, proposal_id)
    own, state = data["own"], data["declaration"]["state"]
    return render(
        request,
        viewer,
        "reviews/review.html",
        status=status,
        values=values,
        errors=errors,
        declare_errors=declaring or {},
        criteria=CRITERIA,
        score_range=(SCORE_MIN, SCORE_MAX),
        must_declare=data["reviewable"] and own is None and state == "needed",
        open=data["reviewable"] and own is None and state == "declared",
        **data,
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


def parse_declaration(form: dict[str, str], viewer: Viewer) -> tuple[bool, str]:
    """(conflict, note) from the declaration's form: ``conflict`` is ``no`` or ``yes``."""
    choice = form.get("conflict", "")
    if choice not in ("no", "yes"):
        message = viewer.t.gettext("choose whether you have a conflict of interest")
        raise InvalidInput(viewer.t.gettext("Please correct the marked fields."), [FieldError("conflict", message)])
    return choice == "yes", form.get("note", "").strip() if choice == "yes" else ""


@router.post("/reviews/{proposal_id:int}/declaration", response_class=HTMLResponse)
async def declare(request: Request, viewer: SignedInChecked, proposal_id: int) -> Response:
    form = await read_form(request)
    try:
        conflict, note = parse_declaration(form, viewer)
        with viewer.ctx.uow_factory(write=True) as uow:
            decisions.declare_interests(uow, viewer.ctx.clock, viewer.actor, proposal_id, conflict=conflict, note=note)
    except InvalidInput as exc:
        errors = field_errors(exc, DECLARATION_FIELDS)
        return _page(request, viewer, proposal_id, {"note": form.get("note", "")}, {}, 422, declaring=errors)
    t = viewer.t
    if conflict:
        flash = t.gettext(
            "You declared a conflict of interest: you are recused, and an operator will assign someone else."
        )
    else:
        flash = t.gettext("You declared no conflict of interest: you can score the proposal now.")
    return redirect(viewer, f"/reviews/{proposal_id}", flash)
