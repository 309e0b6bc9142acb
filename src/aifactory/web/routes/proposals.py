"""Applicant pages: the organization's proposals, starting a draft, the multi-step wizard (every step saved as a
draft through ``services.proposals.edit``), submission, withdrawal, and a proposal's page with its decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.access import PageRequest
from ...domain.enums import Criterion, ProposalStatus
from ...domain.errors import InvalidInput, NotFound
from ...domain.proposals import Action, Proposal
from ...services import calls, consent, decisions, proposals
from ..forms import as_int, read_form
from ..proposal_form import (
    LIMITS,
    MAX_ID,
    NOT_OPEN,
)
from ..proposal_plan import plan_view
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer

router = APIRouter()
VIEW_FIELDS = (
    "id",
    "title",
    "abstract",
    "requested_gpu_hours",
    "duration_months",
    "personal_data",
    "health_data",
    "dual_use",
    "ethics_notes",
    "ethics_flags",
    "submitted_at",
    "decision_deadline",
    "decided_at",
    "decision_reason",
    "awarded_gpu_hours",
    "held_reason",
    "created_at",
    "updated_at",
)


def proposal_view(uow: Any, p: Proposal, lang: str = "en") -> dict[str, Any]:
    """Everything a page shows of a proposal, as plain values (read inside the unit of work); the call's own
    questions in ``lang``."""
    call = uow.calls.get(p.call_id)
    resource = uow.resources.get(p.resource_id)
    orgs = {o.id: o.name for o in (uow.organizations.get(i) for i in sorted(p.organization_ids)) if o is not None}
    project = uow.projects.by_proposal(p.id) if p.status is ProposalStatus.ACCEPTED else None
    view = {k: getattr(p, k) for k in VIEW_FIELDS}
    view.update(
        status=p.status.value,
        application_field=p.application_field.value,
        risk_category=p.risk_category.value,
        team=[dict(m) for m in p.team],
        call={"id": call.id, "title": call.text_in("title", lang), "mode": call.access_mode.value},
        resource=f"{resource.name} ({resource.gpu_model})"
        if resource and resource.gpu_model
        else (resource.name if resource else "–"),
        lead=orgs.get(p.lead_organization_id, ""),
        partners=[orgs[i] for i in p.partner_organization_ids if i in orgs],
        consents={orgs.get(c.organization_id, ""): c.state.value for c in consent.for_proposal(uow, p)},
        project_id=project.id if project else None,
        plan=plan_view(call.questions, p.answers, uow.attachments.for_proposal(p.stored_id), p.stored_id, lang),
    )
    return view


# -- routes -----------------------------------------------------------------------------------------------------


@router.get("/proposals", response_class=HTMLResponse)
def proposal_list(request: Request, viewer: SignedIn) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        items = proposals.list_visible(uow, viewer.actor, PageRequest(limit=200, offset=0)).items
        due = proposals.due_map(uow, viewer.ctx.clock, items)
        call_list = {c.id: c for c in (uow.calls.get(i) for i in {p.call_id for p in items}) if c is not None}
        rows = [
            {
                "id": p.id,
                "title": p.title,
                "call": call_list[p.call_id].title,
                "mode": call_list[p.call_id].access_mode.value,
                "status": p.status.value,
                "due": due[p.stored_id].value,
                "deadline": p.decision_deadline,
                "decided_at": p.decided_at,
                "reason": p.decision_reason,
                "awarded": p.awarded_gpu_hours,
            }
            for p in items
        ]
    return render(request, viewer, "proposals/list.html", rows=rows)


def _new_page(
    request: Request, viewer: Viewer, call: int | None, title: str, errors: dict[str, str], status: int = 200
) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        items = calls.list_calls(uow, PageRequest(limit=200, offset=0), open_on=viewer.ctx.clock.now().date()).items
        options = [
            {
                "id": c.id,
                "title": c.text_in("title", viewer.lang),
                "mode": c.access_mode.value,
                "min": c.min_gpu_hours,
                "max": c.max_gpu_hours,
            }
            for c in items
        ]
    if call is not None and call not in {c["id"] for c in options} and "call" not in errors:
        errors = {**errors, "call": viewer.t.gettext(NOT_OPEN)}
        status = 404 if status == 200 else status  # a form sent with other errors stays a 422
    return render(
        request, viewer, "proposals/new.html", status=status, calls=options, chosen=call, title=title, errors=errors
    )


@router.get("/proposals/new", response_class=HTMLResponse)
def new_proposal_page(request: Request, viewer: SignedIn, call: str = "") -> Response:
    chosen = as_int(call, 0) if call.strip() else None
    return _new_page(request, viewer, chosen, "", {})


@router.post("/proposals/new", response_class=HTMLResponse)
async def new_proposal(request: Request, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    call_id, title = as_int(form.get("call"), 0) or 0, form.get("title", "").strip()
    t, ctx = viewer.t, viewer.ctx
    errors: dict[str, str] = {}
    if len(title) > LIMITS["title"]:
        errors["title"] = t.gettext("at most %(n)s characters", n=LIMITS["title"])
    if not 1 <= call_id <= MAX_ID:
        errors["call"] = t.gettext(NOT_OPEN)
    if not errors:
        try:
            with ctx.uow_factory(write=True) as uow:  # the service checks the call and chooses the defaults
                proposal_id = proposals.create_draft(uow, ctx.clock, viewer.actor, call_id=call_id, title=title).id
        except (NotFound, InvalidInput) as exc:  # an unknown call, or one that is not open
            if isinstance(exc, InvalidInput) and {e.field for e in exc.errors} != {"call_id"}:
                raise
            errors["call"] = t.gettext(NOT_OPEN)
    if errors:
        return _new_page(request, viewer, call_id or None, title, errors, status=422)
    return redirect(
        viewer,
        f"/proposals/{proposal_id}/edit?step=1",
        t.gettext("Your draft is saved. Fill in the steps at your own pace, then submit."),
    )


@router.post("/proposals/{proposal_id:int}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, viewer: SignedInChecked, proposal_id: int) -> Response:
    with viewer.ctx.uow_factory(write=True) as uow:
        proposals.withdraw(uow, viewer.ctx.clock, viewer.actor, proposal_id)
    return redirect(viewer, f"/proposals/{proposal_id}", viewer.t.gettext("The proposal is withdrawn."))


@router.get("/proposals/{proposal_id:int}", response_class=HTMLResponse)
def proposal_detail(request: Request, viewer: SignedIn, proposal_id: int) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        p = proposals.get(uow, viewer.actor, proposal_id)
        view = proposal_view(uow, p, viewer.t.lang)
        can_edit = proposals.applicant_may(viewer.actor, p, Action.EDIT)
        can_withdraw = proposals.applicant_may(viewer.actor, p, Action.WITHDRAW)
        found, anonymous = decisions.reviews_of(uow, viewer.actor, proposal_id)
        reviews = [review_view(r) for r in found]
        due = proposals.due(uow, viewer.ctx.clock, p).value
    return render(
        request,
        viewer,
        "proposals/detail.html",
        p=view,
        due=due,
        reviews=reviews,
        anonymous=anonymous,
        can_edit=can_edit,
        can_withdraw=can_withdraw,
    )


def review_view(r: Any) -> dict[str, Any]:
    crit = [c.value for c in Criterion]
    return {
        "scores": [(c, getattr(r, f"score_{c}"), getattr(r, f"comment_{c}")) for c in crit],
        "summary": r.summary,
        "mean": round(r.mean_score, 2),
        "submitted_at": r.submitted_at,
    }
