"""The proposal wizard: one step per section of the proposal (a "Plan and documents" step where the call asks
questions of its own), every step saved as a draft through ``services.proposals.edit``. "Save and continue"
also asks ``services.proposals.check`` what this step still lacks for submission, so that an applicant learns it
on the step, not at the end; "Save draft" never holds anyone back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.accounts import EmailUnverified
from ...domain.enums import ApplicationField, ProposalStatus, RiskCategory
from ...domain.errors import FieldError, InvalidInput
from ...domain.proposals import Action, Proposal, allowed
from ...domain.questions import Question
from ...domain.teams import PartnersNotConfirmed
from ...services import consent, proposals
from ..forms import read_form, read_multi
from ..proposal_form import BOOLS, MAX_TEAM, STEP_TITLES, parse_step, sort_errors, step_number, step_of, wizard_steps
from ..proposal_plan import milestone_rows, parse_plan, plan_values
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer
from .proposals import proposal_view

router = APIRouter()


@dataclass(frozen=True)
class Shown:
    """What the wizard shows besides the proposal: errors next to fields and on top, the posted form."""

    errors: dict[str, str]
    top: list[dict[str, Any]]
    posted: tuple[dict[str, str], list[str]] | None = None
    incomplete: bool = False  # saved, but the step lacks what submission needs


NOTHING = Shown({}, [])


def _values(p: Proposal, questions: list[Question]) -> tuple[dict[str, str], list[str]]:
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
        **plan_values(questions, p.answers),
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


def questions_of(viewer: Viewer, proposal_id: int) -> list[Question]:
    """The questions of the call of a proposal the viewer may change (404/403 otherwise)."""
    with viewer.ctx.uow_factory(write=False) as uow:
        p = proposals.get_own(uow, viewer.actor, proposal_id)
        questions: list[Question] = uow.calls.get(p.call_id).questions
    return questions


def _titles(questions: list[Question], lang: str) -> dict[str, str]:
    return {q.key: q.title_in(lang) for q in questions}


def wizard_page(
    request: Request, viewer: Viewer, proposal_id: int, step: int, shown: Shown = NOTHING, status: int = 200
) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        p = proposals.get_own(uow, viewer.actor, proposal_id)
        if not allowed(p.status, Action.EDIT):
            return redirect(
                viewer,
                f"/proposals/{proposal_id}",
                viewer.t.gettext("Only drafts can be edited; this proposal is no longer a draft."),
            )
        questions = uow.calls.get(p.call_id).questions
        view, options = proposal_view(uow, p, viewer.t.lang), _options(uow, p)
        values, chosen = _values(p, questions)
    steps = wizard_steps(bool(questions))
    if shown.posted is not None:
        form, posted_chosen = shown.posted
        values = {k: v for k, v in values.items() if step_of(k, steps) != step}
        values.update({k: v for k, v in form.items() if step_of(k, steps) == step})
        chosen = posted_chosen if steps[step - 1] == "team" else chosen
    last = max([int(k.split("-")[1]) for k, v in values.items() if k.startswith("team-") and v] or [-1])
    return render(
        request,
        viewer,
        "proposals/wizard.html",
        status=status,
        p=view,
        step=step,
        step_name=steps[step - 1],
        steps=[(n, viewer.t.gettext(STEP_TITLES[name])) for n, name in enumerate(steps, start=1)],
        values=values,
        chosen=chosen,
        errors=shown.errors,
        top=shown.top,
        incomplete=shown.incomplete,
        team_rows=range(min(MAX_TEAM, max(last + 3, 3))),
        milestone_rows=milestone_rows(questions, values),
        **options,
    )


@router.get("/proposals/{proposal_id:int}/edit", response_class=HTMLResponse)
def edit_page(request: Request, viewer: SignedIn, proposal_id: int, step: str = "1") -> Response:
    steps = wizard_steps(bool(questions_of(viewer, proposal_id)))
    return wizard_page(request, viewer, proposal_id, step_number(step, steps))


@router.post("/proposals/{proposal_id:int}/edit", response_class=HTMLResponse)
async def save_step(request: Request, viewer: SignedInChecked, proposal_id: int, step: str = "1") -> Response:
    questions = questions_of(viewer, proposal_id)
    steps = wizard_steps(bool(questions))
    n = step_number(step, steps)
    name = steps[n - 1]
    if name == "review":
        return redirect(viewer, f"/proposals/{proposal_id}/edit?step={n}")
    form = await read_form(request)
    chosen = await read_multi(request, "partner_organization_ids")
    titles = _titles(questions, viewer.t.lang)
    try:
        if name == "team" and form.get("partner_add", "").strip():
            chosen.append(_partner_to_add(viewer, form["partner_add"]))
        changes = parse_plan(questions, form, viewer.t) if name == "plan" else parse_step(name, form, chosen, viewer.t)
        with viewer.ctx.uow_factory(write=True) as uow:
            proposals.edit(uow, viewer.ctx.clock, viewer.actor, proposal_id, changes)
    except InvalidInput as exc:
        errors, top = sort_errors(exc, n, steps, viewer.t, titles)
        return wizard_page(request, viewer, proposal_id, n, Shown(errors, top, (form, chosen)), status=422)
    if form.get("go") == "stay":
        return redirect(viewer, f"/proposals/{proposal_id}/edit?step={n}", viewer.t.gettext("Draft saved."))
    lacking = _lacking(viewer, proposal_id, name)
    if lacking:  # saved; what submission would refuse on this step is shown on it
        message = viewer.t.gettext("Your draft is saved, but this step is not complete yet.")
        errors, top = sort_errors(InvalidInput(message, lacking), n, steps, viewer.t, titles)
        return wizard_page(request, viewer, proposal_id, n, Shown(errors, top, incomplete=True), status=422)
    return redirect(viewer, f"/proposals/{proposal_id}/edit?step={n + 1}", viewer.t.gettext("Draft saved."))


def _lacking(viewer: Viewer, proposal_id: int, section: str) -> list[FieldError]:
    """What submission would refuse in this section of the saved draft (services.proposals.check)."""
    with viewer.ctx.uow_factory(write=False) as uow:
        found = proposals.check(uow, viewer.ctx.clock, viewer.actor, proposal_id)
    return [FieldError(x.field, x.message) for x in found.problems if x.section == section]


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
    questions = questions_of(viewer, proposal_id)
    steps = wizard_steps(bool(questions))
    try:
        with viewer.ctx.uow_factory(write=True) as uow:
            accepted = (
                proposals.submit(uow, viewer.ctx.clock, viewer.actor, proposal_id).status is ProposalStatus.ACCEPTED
            )
    except InvalidInput as exc:
        first = min([s for s in (step_of(e.field, steps) for e in exc.errors) if s is not None] or [len(steps)])
        errors, top = sort_errors(exc, first, steps, t, _titles(questions, t.lang))
        return wizard_page(request, viewer, proposal_id, first, Shown(errors, top), status=422)
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
