"""Portal pages for the factory's operators: proposals awaiting a decision, one proposal with its reviews,
reviewer assignment and the decision forms. The other operator pages live in ``operator_admin`` (calls,
resources, users), ``operator_kpis`` (the KPI dashboard and its CSV) and ``operator_audit`` (the audit log);
the helpers they share are here."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.access import PageRequest
from ...domain.errors import DomainError, FieldError, InvalidInput
from ...domain.proposals import allowed
from ...domain.reviews import Review, ReviewAssignment
from ...services import decisions, proposals
from ...services.context import found
from ..forms import as_int, field_errors, read_form, read_multi
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer
from .proposals import proposal_view, review_view
from .reviews import declaration_state

router = APIRouter()
PAGE = 25


# ------------------------------------------------------------------ shared by the operator pages


def _operator(viewer: SignedIn) -> Viewer:
    viewer.actor.require_operator()  # Forbidden: the 403 page
    return viewer


def _operator_checked(viewer: SignedInChecked) -> Viewer:
    viewer.actor.require_operator()
    return viewer


Operator = Annotated[Viewer, Depends(_operator)]
OperatorChecked = Annotated[Viewer, Depends(_operator_checked)]


def page_request(offset: str | None, limit: int = PAGE) -> PageRequest:
    """A page from a ``?offset=`` that may be anything: not a number or negative reads as 0."""
    return PageRequest(limit=limit, offset=max(0, min(as_int(offset, 0) or 0, 10_000_000)))


def pager(page: Any) -> dict[str, int | None]:
    """Offsets of the previous and next page (None at either end) and the range shown."""
    prev = max(0, page.offset - page.limit) if page.offset > 0 else None
    nxt = page.offset + page.limit if page.offset + page.limit < page.total else None
    return {
        "prev": prev,
        "next": nxt,
        "first": page.offset + 1 if page.items else 0,
        "last": page.offset + len(page.items),
        "total": page.total,
    }


class Problems:
    """Field errors collected while reading a form, raised together (nothing is written before)."""

    def __init__(self, viewer: Viewer):
        self.t = viewer.t
        self.errors: list[FieldError] = []

    def integer(
        self, form: dict[str, str], name: str, *, required: bool = True, lo: int = 0, hi: int = 10**12
    ) -> int | None:
        raw = form.get(name, "").strip().replace(",", "").replace("_", "")
        if not raw:
            if required:
                self.errors.append(FieldError(name, self.t.gettext("required")))
            return None
        value = as_int(raw)
        if value is None or not lo <= value <= hi:
            self.errors.append(
                FieldError(name, self.t.gettext("enter a whole number between %(lo)s and %(hi)s", lo=lo, hi=hi))
            )
            return None
        return value

    def number(self, form: dict[str, str], name: str, default: float) -> float:
        raw = form.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):
            self.errors.append(FieldError(name, self.t.gettext("enter a number")))
            return default
        return value

    def day(self, form: dict[str, str], name: str, *, required: bool = False) -> date | None:
        raw = form.get(name, "").strip()
        if not raw:
            if required:
                self.errors.append(FieldError(name, self.t.gettext("required")))
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.append(FieldError(name, self.t.gettext("enter a date as YYYY-MM-DD")))
            return None

    def int_list(self, raw: list[str], name: str) -> list[int]:
        out = []
        for item in raw:
            value = as_int(item)
            if value is None:
                self.errors.append(FieldError(name, self.t.gettext("%(value)s is not a number", value=item[:20])))
            else:
                out.append(value)
        return out

    def check(self) -> None:
        if self.errors:
            raise InvalidInput(self.t.gettext("Please correct the marked fields."), self.errors)


# ------------------------------------------------------------------ proposals awaiting a decision


def _pending_rows(viewer: Viewer, page: PageRequest) -> tuple[list[dict[str, Any]], dict[str, int | None]]:
    ctx, actor = viewer.ctx, viewer.actor
    with ctx.uow_factory(write=False) as uow:
        listed = proposals.awaiting_decision(uow, actor, page)  # the earliest (most overdue) deadline first
        items = listed.items
        calls_by_id = {i: uow.calls.get(i) for i in {p.call_id for p in items}}  # a handful of calls
        due = proposals.due_map(uow, ctx.clock, items)  # finds those calls in the session already
        orgs = uow.organizations.names({p.lead_organization_id for p in items})
        reviews = uow.reviews.counts([p.id for p in items])
        rows = []
        for p in items:
            call = calls_by_id[p.call_id]
            rows.append(
                {
                    "id": p.id,
                    "title": p.title,
                    "status": p.status,
                    "due": due[p.stored_id],
                    "deadline": p.decision_deadline,
                    "requested": p.requested_gpu_hours,
                    "call": call.text_in("title", viewer.lang),
                    "mode": call.access_mode,
                    "org": orgs.get(p.lead_organization_id, ""),
                    "reviews": reviews.get(p.id, 0),
                    "required": call.required_reviews,
                }
            )
    return rows, pager(listed)


@router.get("/operator", response_class=HTMLResponse)
def pending(request: Request, viewer: Operator, offset: str | None = None) -> Response:
    rows, pages = _pending_rows(viewer, page_request(offset))
    return render(request, viewer, "operator/pending.html", rows=rows, pages=pages)


# ------------------------------------------------------------------ one proposal: reviews and decision


def _review_rows(reviews: list[Review], names: dict[int, str]) -> list[dict[str, Any]]:
    """Each review with its reviewer's name: per criterion (named on the page) its score and comment."""
    return [{"reviewer": names.get(r.reviewer_id, str(r.reviewer_id)), **review_view(r)} for r in reviews]


def _declarations(assignments: list[ReviewAssignment], names: dict[int, str]) -> list[dict[str, Any]]:
    """Each assigned reviewer's declaration of interests: ``needed``, ``declared`` (no conflict) or ``recused``."""
    rows = [
        {
            "reviewer": names.get(a.reviewer_id, str(a.reviewer_id)),
            "state": declaration_state(a),
            "at": a.declared_at,
            "note": a.conflict_note,
        }
        for a in assignments
    ]
    return sorted(rows, key=lambda r: r["reviewer"])


def _detail(viewer: Viewer, proposal_id: int) -> dict[str, Any]:
    """The page's values, and what it offers: each offer is the services' and the domain's rule, asked here."""
    ctx, actor = viewer.ctx, viewer.actor
    with ctx.uow_factory(write=False) as uow:
        p = proposals.get(uow, actor, proposal_id)
        reviews, _anonymous = decisions.reviews_of(uow, actor, p.stored_id)
        call = found(uow.calls.get(p.call_id), "call", p.call_id)
        resource = uow.resources.get(p.resource_id)
        assignments = uow.assignments.for_proposal(p.stored_id)
        assigned = {a.reviewer_id for a in assignments}
        names = {u.id: u.name for u in (uow.users.get(i) for i in assigned) if u and u.id is not None}
        orgs = [o for o in (uow.organizations.get(i) for i in sorted(p.organization_ids)) if o]
        return {
            "p": {
                "id": p.id,
                "title": p.title,
                "abstract": p.abstract,
                "status": p.status,
                "requested": p.requested_gpu_hours,
                "months": p.duration_months,
                "field": p.application_field,
                "deadline": p.decision_deadline,
                "submitted_at": p.submitted_at,
                "flags": p.ethics_flags,
                "reason": p.decision_reason,
                "awarded": p.awarded_gpu_hours,
                "held": p.held_reason,
                "due": proposals.due(uow, ctx.clock, p),
            },
            "call": {
                "id": call.id,
                "title": call.text_in("title", viewer.lang),
                "mode": call.access_mode,
                "required": call.required_reviews,
            },
            "resource": resource.name if resource else "",
            "orgs": [(o.name, o.kind) for o in orgs],
            "full": proposal_view(uow, p, viewer.t.lang),
            "assigned": sorted(names.values()),
            "declarations": _declarations(assignments, names),
            "can_review": sum(1 for a in assignments if not a.recused),
            "candidates": [(u.id, u.name) for u in decisions.reviewer_candidates(uow, actor, p.stored_id)],
            "can_assign": allowed(p.status, "assign"),
            "can_decide": allowed(p.status, "decide"),
            "can_accept": decisions.ready_to_accept(uow, p),
            "reviews": _review_rows(reviews, names),
        }


def _show(
    request: Request,
    viewer: Viewer,
    proposal_id: int,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    **errors: dict[str, str],
) -> Response:
    data = _detail(viewer, proposal_id)
    errs = {k: errors.get(k, {}) for k in ("assign", "accept", "reject")}
    return render(request, viewer, "operator/proposal.html", status=status, form=form or {}, errors=errs, **data)


@router.get("/operator/proposals/{proposal_id:int}", response_class=HTMLResponse)
def proposal_page(request: Request, viewer: Operator, proposal_id: int) -> Response:
    return _show(request, viewer, proposal_id)


@router.post("/operator/proposals/{proposal_id:int}/reviewers", response_class=HTMLResponse)
async def assign(request: Request, viewer: OperatorChecked, proposal_id: int) -> Response:
    raw = await read_multi(request, "reviewer_ids")
    try:
        check = Problems(viewer)
        ids = check.int_list(raw, "reviewer_ids")
        check.check()
        with viewer.ctx.uow_factory(write=True) as uow:
            decisions.assign_reviewers(uow, viewer.ctx.clock, viewer.actor, proposal_id, ids)
    except DomainError as exc:
        return _show(request, viewer, proposal_id, status=exc.status, assign=field_errors(exc, {"reviewer_ids"}))
    return redirect(viewer, f"/operator/proposals/{proposal_id}", viewer.t.gettext("Reviewers assigned."))


@router.post("/operator/proposals/{proposal_id:int}/accept", response_class=HTMLResponse)
async def accept(request: Request, viewer: OperatorChecked, proposal_id: int) -> Response:
    form = await read_form(request)
    try:
        check = Problems(viewer)
        awarded = check.integer(form, "awarded_gpu_hours", required=False, lo=1)
        start = check.day(form, "start_date")
        check.check()
        with viewer.ctx.uow_factory(write=True) as uow:
            decisions.decide(
                uow,
                viewer.ctx.clock,
                viewer.actor,
                proposal_id,
                accept_it=True,
                reason=form.get("accept_reason", ""),
                awarded_gpu_hours=awarded,
                start_date=start,
            )
    except DomainError as exc:
        known = {"awarded_gpu_hours", "accept_reason", "start_date"}
        return _show(
            request,
            viewer,
            proposal_id,
            status=exc.status,
            form=form,
            accept=field_errors(exc, known, {"reason": "accept_reason"}),
        )
    viewer.ctx.kick_reconciler()  # the project's scheduler account and limit are set up now
    return redirect(
        viewer,
        f"/operator/proposals/{proposal_id}",
        viewer.t.gettext("Proposal accepted: its project and allocation are created."),
    )


@router.post("/operator/proposals/{proposal_id:int}/reject", response_class=HTMLResponse)
async def reject(request: Request, viewer: OperatorChecked, proposal_id: int) -> Response:
    form = await read_form(request)
    reason = form.get("reject_reason", "")
    try:
        if not reason.strip():
            raise InvalidInput.on("reject_reason", viewer.t.gettext("a rejection needs a reason"))
        with viewer.ctx.uow_factory(write=True) as uow:
            decisions.decide(uow, viewer.ctx.clock, viewer.actor, proposal_id, accept_it=False, reason=reason)
    except DomainError as exc:
        return _show(
            request,
            viewer,
            proposal_id,
            status=exc.status,
            form=form,
            reject=field_errors(exc, {"reject_reason"}, {"reason": "reject_reason"}),
        )
    return redirect(viewer, f"/operator/proposals/{proposal_id}", viewer.t.gettext("Proposal rejected."))
