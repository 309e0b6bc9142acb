"""Applicant pages: the organization's proposals, starting a draft, the multi-step wizard (every step saved as a
draft through ``services.proposals.edit``), submission, withdrawal, and a proposal's page with its decision."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.access import PageRequest
from ...domain.enums import ApplicationField, Criterion, ProposalStatus, RiskCategory
from ...domain.errors import DomainError, FieldError, Forbidden, InvalidInput
from ...domain.identity import normalize_email
from ...domain.proposals import Proposal
from ...services import calls, decisions, proposals
from ..forms import as_int, read_form, read_multi
from ..i18n import Translator
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer

router = APIRouter()


def N_(message: str) -> str:
    """Marks a message for translation where it is defined; it is translated where it is shown."""
    return message


STEPS = {
    1: N_("Project"),
    2: N_("Team and partners"),
    3: N_("Resources"),
    4: N_("Ethics and AI Act"),
    5: N_("Review and submit"),
}
STEP_FIELDS = {
    1: {"title", "abstract", "application_field"},
    2: {"team", "partner_organization_ids"},
    3: {"resource_id", "requested_gpu_hours", "duration_months"},
    4: {"risk_category", "personal_data", "health_data", "dual_use", "ethics_notes"},
}
LABELS = {
    "title": N_("Title"),
    "abstract": N_("Abstract"),
    "application_field": N_("Application field"),
    "team": N_("Team"),
    "partner_organization_ids": N_("Partner organizations"),
    "resource_id": N_("Resource"),
    "requested_gpu_hours": N_("GPU-hours requested"),
    "duration_months": N_("Duration (months)"),
    "risk_category": N_("EU AI Act risk category"),
    "personal_data": N_("Personal data"),
    "health_data": N_("Health data"),
    "dual_use": N_("Dual use"),
    "ethics_notes": N_("Ethics notes"),
    "call": N_("Call"),
    "organization": N_("Your organization"),
}
BOOLS = ("personal_data", "health_data", "dual_use")
MAX_TEAM = 20
MAX_ID = 2_147_483_647
LIMITS = {"title": 300, "abstract": 20_000, "ethics_notes": 20_000, "name": 200, "email": 254, "role": 100}
NUMBER = re.compile(r"[0-9]{1,9}|[0-9]{1,3}([,.' ])[0-9]{3}(?:\1[0-9]{3})?")
OPEN = (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW)
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
        project_id=project.id if project else None,
    )
    return view


def _step(value: str | None) -> int:
    n = as_int(value, 1) or 1
    return n if n in STEPS else 1


def step_of(name: str) -> int | None:
    base = re.split(r"[-.]", name, maxsplit=1)[0]
    return next((n for n, fields in STEP_FIELDS.items() if base in fields), None)


def _label(t: Translator, name: str) -> str:
    base = re.split(r"[-.]", name, maxsplit=1)[0]
    return t.gettext(LABELS[base]) if base in LABELS else name


def sort_errors(exc: DomainError, step: int, t: Translator) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Errors of this step's fields go next to them; every error is also listed on top, naming its field and
    its step (a link for the other steps)."""
    fields: dict[str, str] = {}
    top: list[dict[str, Any]] = []
    for err in exc.errors:
        where = step_of(err.field)
        if where == step:
            fields[err.field] = f"{fields[err.field]}; {err.message}" if err.field in fields else err.message
        top.append({"step": where, "label": _label(t, err.field), "message": err.message})
    if not exc.errors:
        top.append({"step": None, "label": "", "message": str(exc)})
    return fields, top


# -- reading a step's form --------------------------------------------------------------------------------------


def _text(form: dict[str, str], name: str, errs: list[FieldError], t: Translator, limit: int) -> str:
    value = form.get(name, "").strip()
    if len(value) > limit:
        errs.append(FieldError(name, t.gettext("at most %(n)s characters", n=f"{limit:,}")))
    return value


def _number(form: dict[str, str], name: str, errs: list[FieldError], t: Translator) -> int | None:
    raw = form.get(name, "").strip()
    if not NUMBER.fullmatch(raw):
        errs.append(FieldError(name, t.gettext("enter a whole number, e.g. 5000")))
        return None
    return int(re.sub(r"[^0-9]", "", raw))


def _choice(form: dict[str, str], name: str, allowed: set[str], errs: list[FieldError], t: Translator) -> str | None:
    value = form.get(name, "")
    if value not in allowed:
        errs.append(FieldError(name, t.gettext("choose one of the options")))
        return None
    return value


def _team(form: dict[str, str], errs: list[FieldError], t: Translator) -> list[dict[str, str]]:
    team = []
    for i in range(MAX_TEAM):
        row = {k: form.get(f"team-{i}-{k}", "").strip() for k in ("name", "email", "role")}
        if not any(row.values()):
            continue
        if not row["name"]:
            errs.append(FieldError(f"team-{i}-name", t.gettext("a team member needs a name")))
        for key, value in row.items():
            if len(value) > LIMITS[key]:
                errs.append(FieldError(f"team-{i}-{key}", t.gettext("at most %(n)s characters", n=LIMITS[key])))
        try:
            row["email"] = normalize_email(row["email"][: LIMITS["email"] + 1])
        except InvalidInput:
            errs.append(FieldError(f"team-{i}-email", t.gettext("enter a valid e-mail address")))
        team.append(row)
    return team


def parse_step(step: int, form: dict[str, str], chosen: list[str], t: Translator) -> dict[str, Any]:
    """The service's fields of one step; InvalidInput (nothing saved) if any of them cannot be read."""
    errs: list[FieldError] = []
    out: dict[str, Any] = {}
    if step == 1:
        out["title"] = _text(form, "title", errs, t, LIMITS["title"])
        out["abstract"] = _text(form, "abstract", errs, t, LIMITS["abstract"])
        out["application_field"] = _choice(form, "application_field", {f.value for f in ApplicationField}, errs, t)
    elif step == 2:
        out["team"] = _team(form, errs, t)
        ids = [as_int(v) for v in chosen]
        if any(i is None or not 1 <= i <= MAX_ID for i in ids):
            errs.append(FieldError("partner_organization_ids", t.gettext("choose organizations from the list")))
        out["partner_organization_ids"] = ids
    elif step == 3:
        for name in ("requested_gpu_hours", "duration_months", "resource_id"):
            out[name] = _number(form, name, errs, t)
        if out["resource_id"] is not None and not 1 <= out["resource_id"] <= MAX_ID:
            errs.append(FieldError("resource_id", t.gettext("choose one of the options")))
    elif step == 4:
        out["risk_category"] = _choice(form, "risk_category", {r.value for r in RiskCategory}, errs, t)
        out.update({b: bool(form.get(b)) for b in BOOLS})
        out["ethics_notes"] = _text(form, "ethics_notes", errs, t, LIMITS["ethics_notes"])
    if errs:
        raise InvalidInput(t.gettext("Please correct the marked fields."), errs)
    return out


def _check_references(uow: Any, p: Proposal, changes: dict[str, Any], t: Translator) -> None:
    """The wizard's own checks before the edit, with translated messages: the resource must be one the call
    offers (as the form's options; the service checks it only at submission), partners must exist."""
    errs: list[FieldError] = []
    if "resource_id" in changes and changes["resource_id"] not in uow.calls.get(p.call_id).resource_ids:
        errs.append(FieldError("resource_id", t.gettext("choose one of the options")))
    ids = changes.get("partner_organization_ids") or []
    if set(ids) - uow.organizations.existing_ids(ids):
        errs.append(FieldError("partner_organization_ids", t.gettext("choose organizations from the list")))
    if errs:
        raise InvalidInput(t.gettext("Please correct the marked fields."), errs)


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
    orgs = uow.organizations.list(PageRequest(limit=500, offset=0)).items
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
        if p.status is not ProposalStatus.DRAFT:
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
                "due": due[p.id].value,
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
        errors = {**errors, "call": viewer.t.gettext("This call does not exist or is not open: choose an open call.")}
        status = 404
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
    with ctx.uow_factory(write=True) as uow:
        call = uow.calls.get(call_id) if 1 <= call_id <= MAX_ID else None
        if call is None or not call.is_open(ctx.clock.now().date()):
            errors["call"] = t.gettext("This call does not exist or is not open: choose an open call.")
        if not errors:
            p = proposals.create_draft(
                uow,
                ctx.clock,
                viewer.actor,
                call_id=call.id,
                title=title,
                resource_id=call.resource_ids[0],
                duration_months=call.durations_months[0],
                requested_gpu_hours=call.min_gpu_hours,
            )
            proposal_id = p.id
    if errors:
        return _new_page(request, viewer, call_id or None, title, errors, status=422)
    return redirect(
        viewer,
        f"/proposals/{proposal_id}/edit?step=1",
        t.gettext("Your draft is saved. Fill in the steps at your own pace, then submit."),
    )


@router.get("/proposals/{proposal_id:int}/edit", response_class=HTMLResponse)
def edit_page(request: Request, viewer: SignedIn, proposal_id: int, step: str = "1") -> Response:
    return _wizard(request, viewer, proposal_id, _step(step))


@router.post("/proposals/{proposal_id:int}/edit", response_class=HTMLResponse)
async def save_step(request: Request, viewer: SignedInChecked, proposal_id: int, step: str = "1") -> Response:
    n = _step(step)
    if n not in STEP_FIELDS:
        return redirect(viewer, f"/proposals/{proposal_id}/edit?step={n}")
    form = await read_form(request)
    chosen = await read_multi(request, "partner_organization_ids")
    try:
        changes = parse_step(n, form, chosen, viewer.t)
        with viewer.ctx.uow_factory(write=True) as uow:
            _check_references(uow, proposals.get_own(uow, viewer.actor, proposal_id), changes, viewer.t)
            proposals.edit(uow, viewer.ctx.clock, viewer.actor, proposal_id, changes)
    except InvalidInput as exc:
        errors, top = sort_errors(exc, n, viewer.t)
        return _wizard(request, viewer, proposal_id, n, errors=errors, top=top, posted=(form, chosen), status=422)
    target = n if form.get("go") == "stay" else n + 1
    return redirect(viewer, f"/proposals/{proposal_id}/edit?step={target}", viewer.t.gettext("Draft saved."))


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
        try:
            can_change = proposals.get_own(uow, viewer.actor, proposal_id) is not None
        except Forbidden:
            can_change = False
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
        can_edit=can_change and p.status is ProposalStatus.DRAFT,
        can_withdraw=can_change and p.status in OPEN,
    )


def review_view(r: Any) -> dict[str, Any]:
    crit = [c.value for c in Criterion]
    return {
        "scores": [(c, getattr(r, f"score_{c}"), getattr(r, f"comment_{c}")) for c in crit],
        "summary": r.summary,
        "mean": round(r.mean_score, 2),
        "submitted_at": r.submitted_at,
    }
