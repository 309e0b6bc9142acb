"""Applicant pages: the organization's proposals, starting a draft, the multi-step wizard (every step saved as a
draft through ``services.proposals.edit``), submission, withdrawal, and a proposal's page with its decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.access import PageRequest
from ...domain.accounts import EmailUnverified
from ...domain.enums import ApplicationField, Criterion, ProposalStatus, RiskCategory
from ...domain.errors import InvalidInput, NotFound
from ...domain.proposals import Action, Proposal, allowed
from ...domain.teams import PartnersNotConfirmed
from ...services import calls, consent, decisions, proposals
from ..forms import as_int, read_form, read_multi
from ..proposal_form import (
    BOOLS,
    LIMITS,
    MAX_ID,
    MAX_TEAM,
    NOT_OPEN,
    STEP_FIELDS,
    STEPS,
    parse_step,
    sort_errors,
    step_number,
    step_of,
)
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


def proposal_view(uow: Any, p: Proposal) -> dict[str, Any]:
    """Everything a page shows of a proposal, as plain values (read inside the unit of work)."""
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
        call={"id": call.id, "title": call.title, "mode": call.access_mode.value},
        resource=f"{resource.name} ({resource.gpu_model})"
        if resource and resource.gpu_model
        else (resource.name if resource else "–"),
        lead=orgs.get(p.lead_organization_id, ""),
        partners=[orgs[i] for i in p.partner_organization_ids if i in orgs],
        consents={orgs.get(c.organization_id, ""): c.state.value for c in consent.for_proposal(uow, p)},
        project_id=project.id if project else None,
    )
    return view


# -- the wizard's page ------------------------------------------------------------------------------------------


def _values(p: Proposal) -> tuple[dict[str, str], list[str]]:
    values = {
        "title": p.title,
        "abstract": p.abstract,
        "application_field": p.application_field.value,
        "resource_id": str(p.resource_id),
        "requested_gpu_hours": str(p.requested_gpu_hours),
        "duration_months": str(p.duration_months),
        "risk_category": p.risk_category.value,
        "ethics_notes": p.ethics_notes,
        **{b: "on" if getattr(p, b) else "" for b in BOOLS},
    }
    for i, member in enumerate(p.team[:MAX_TEAM]):
        values.update({f"team-{i}-{k}": str(member.get(k, "")) for k in ("name", "email", "role")})
    return values, [str(i) for i in p.partner_organization_ids]


def _options(uow: Any, p: Proposal) -> dict[str, Any]:
    call = uow.calls.get(p.call_id)
    resources = [r for r in (uow.resources.get(i) for i in call.resource_ids) if r is not None]
    orgs = [o for o in (uow.organizations.get(i) for i in p.partner_organization_ids) if o is not None]
    return {
        "fields": [f.value for f in ApplicationField],
        "risks": [r.value for r in RiskCategory],
        "resources": [(str(r.id), f"{r.name} ({r.gpu_model})" if r.gpu_model else r.name) for r in resources],
        "durations": [(str(m), str(m)) for m in sorted(set(call.durations_months) | {p.duration_months})],
        "hours_range": (call.min_gpu_hours, call.max_gpu_hours),
        "orgs": [(str(o.id), o.name) for o in orgs if o.id != p.lead_organization_id],
    }


def _wizard(
    request: Request,
    viewer: Viewer,
    proposal_id: int,
    step: int,
    *,
    errors: dict[str, str] | None = None,
    top: list[dict[str, Any]] | None = None,
    posted: tuple[dict[str, str], list[str]] | None = None,
    status: int = 200,
) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        p = proposals.get_own(uow, viewer.actor, proposal_id)
        if not allowed(p.status, Action.EDIT):
            return redirect(
                viewer,
                f"/proposals/{proposal_id}",
                viewer.t.gettext("Only drafts can be edited; this proposal is no longer a draft."),
            )
        view, options = proposal_view(uow, p), _options(uow, p)
        values, chosen = _values(p)
    if posted is not None:
        form, posted_chosen = posted
        values = {k: v for k, v in values.items() if step_of(k) != step}
        values.update({k: v for k, v in form.items() if step_of(k) == step})
        chosen = posted_chosen if step == 2 else chosen
    last = max([int(k.split("-")[1]) for k, v in values.items() if k.startswith("team-") and v] or [-1])
    steps = [(n, viewer.t.gettext(title)) for n, title in STEPS.items()]
    return render(
        request,
        viewer,
        "proposals/wizard.html",
        status=status,
        p=view,
        step=step,
        steps=steps,
        values=values,
        chosen=chosen,
        errors=errors or {},
        top=top or [],
        team_rows=range(min(MAX_TEAM, max(last + 3, 3))),
        **options,
    )


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
            {"id": c.id, "title": c.title, "mode": c.access_mode.value, "min": c.min_gpu_hours, "max": c.max_gpu_hours}
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


@router.get("/proposals/{proposal_id:int}/edit", response_class=HTMLResponse)
def edit_page(request: Request, viewer: SignedIn, proposal_id: int, step: str = "1") -> Response:
    return _wizard(request, viewer, proposal_id, step_number(step))


@router.post("/proposals/{proposal_id:int}/edit", response_class=HTMLResponse)
async def save_step(request: Request, viewer: SignedInChecked, proposal_id: int, step: str = "1") -> Response:
    n = step_number(step)
    if n not in STEP_FIELDS:
        return redirect(viewer, f"/proposals/{proposal_id}/edit?step={n}")
    form = await read_form(request)
    chosen = await read_multi(request, "partner_organization_ids")
    try:
        if n == 2 and form.get("partner_add", "").strip():
            chosen.append(_partner_to_add(viewer, form["partner_add"]))
        changes = parse_step(n, form, chosen, viewer.t)
        with viewer.ctx.uow_factory(write=True) as uow:
            proposals.edit(uow, viewer.ctx.clock, viewer.actor, proposal_id, changes)
    except InvalidInput as exc:
        errors, top = sort_errors(exc, n, viewer.t)
        return _wizard(request, viewer, proposal_id, n, errors=errors, top=top, posted=(form, chosen), status=422)
    target = n if form.get("go") == "stay" else n + 1
    return redirect(viewer, f"/proposals/{proposal_id}/edit?step={target}", viewer.t.gettext("Draft saved."))


def _partner_to_add(viewer: Viewer, text: str) -> str:
    """The id of the organization named exactly (name or id); nothing else is listed to applicants."""
    with viewer.ctx.uow_factory(write=False) as uow:
        org = consent.find_partner(uow, text)
    if org is None:
        message = viewer.t.gettext("no organization has exactly this name or id")
        raise InvalidInput.on("partner_organization_ids", message)
    return str(org.id)


@router.post("/proposals/{proposal_id:int}/submit", response_class=HTMLResponse)
async def submit(request: Request, viewer: SignedInChecked, proposal_id: int) -> Response:
    t = viewer.t
    try:
        with viewer.ctx.uow_factory(write=True) as uow:
            accepted = (
                proposals.submit(uow, viewer.ctx.clock, viewer.actor, proposal_id).status is ProposalStatus.ACCEPTED
            )
    except InvalidInput as exc:
        first = min([s for s in (step_of(e.field) for e in exc.errors) if s is not None] or [5])
        errors, top = sort_errors(exc, first, t)
        return _wizard(request, viewer, proposal_id, first, errors=errors, top=top, status=422)
    except PartnersNotConfirmed:
        flash = t.gettext("The partner organizations must confirm first; their admins were asked.")
        return redirect(viewer, f"/proposals/{proposal_id}", flash)
    except EmailUnverified:  # domain.accounts: the banner above offers a new link
        flash = t.gettext("Verify your e-mail address first: open the link we sent you, then submit again.")
        return redirect(viewer, f"/proposals/{proposal_id}", flash)
    viewer.ctx.kick_reconciler()  # accepted at once: its project's scheduler account and limit are set up now
    flash = (
        t.gettext("Your proposal was accepted at once: your project is ready.")
        if accepted
        else t.gettext("Your proposal is submitted. You will hear about the decision by its deadline.")
    )
    return redirect(viewer, f"/proposals/{proposal_id}", flash)


@router.post("/proposals/{proposal_id:int}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, viewer: SignedInChecked, proposal_id: int) -> Response:
    with viewer.ctx.uow_factory(write=True) as uow:
        proposals.withdraw(uow, viewer.ctx.clock, viewer.actor, proposal_id)
    return redirect(viewer, f"/proposals/{proposal_id}", viewer.t.gettext("The proposal is withdrawn."))


@router.get("/proposals/{proposal_id:int}", response_class=HTMLResponse)
def proposal_detail(request: Request, viewer: SignedIn, proposal_id: int) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        p = proposals.get(uow, viewer.actor, proposal_id)
        view = proposal_view(uow, p)
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
