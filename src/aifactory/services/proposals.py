"""Proposals: drafting, editing, submission (with eligibility and auto-approval), withdrawal, reading."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..domain.access import Page, PageRequest
from ..domain.accounts import check_verified
from ..domain.calendar import add_months, decision_deadline, due_status, holiday_calendar
from ..domain.calls import Call, self_service_excess
from ..domain.enums import ApplicationField, DueStatus, ProposalStatus, RiskCategory
from ..domain.errors import FieldError, Forbidden, InvalidInput, NotFound
from ..domain.identity import normalize_email
from ..domain.proposal_checks import Problem, submission_problems
from ..domain.proposals import (
    Action,
    Ask,
    Proposal,
    allowed,
    auto_approvable,
    require,
    transition,
)
from ..domain.questions import Answers
from ..domain.reasons import auto_approved
from ..domain.teams import ConsentState
from . import consent
from .audit import record, snapshot
from .context import Actor, found
from .ports import Clock, UnitOfWork

EDITABLE = (
    "title",
    "abstract",
    "application_field",
    "requested_gpu_hours",
    "resource_id",
    "duration_months",
    "team",
    "partner_organization_ids",
    "risk_category",
    "personal_data",
    "health_data",
    "dual_use",
    "ethics_notes",
    "answers",
)
MAX_GPU_HOURS = 100_000_000


def _check_fields(uow: UnitOfWork, p: Proposal, offered_by: Call | None) -> None:
    """The fields' values and references; with ``offered_by`` (whenever the draft gets a resource), also
    that this call offers the resource."""
    with uow.no_autoflush():  # the references are checked before the changed row is written
        _check_values(uow, p, offered_by)


def _check_values(uow: UnitOfWork, p: Proposal, offered_by: Call | None) -> None:
    if not 1 <= p.requested_gpu_hours <= MAX_GPU_HOURS:
        raise InvalidInput.on("requested_gpu_hours", f"must be between 1 and {MAX_GPU_HOURS:,}")
    if not 1 <= p.duration_months <= 60:
        raise InvalidInput.on("duration_months", "must be between 1 and 60")
    if uow.resources.get(p.resource_id) is None:
        raise InvalidInput.on("resource_id", f"resource {p.resource_id} does not exist")
    if offered_by is not None and p.resource_id not in offered_by.resource_ids:
        raise InvalidInput.on("resource_id", f"resource {p.resource_id} is not offered by this call")
    partners = p.partner_organization_ids
    if p.lead_organization_id in partners:
        raise InvalidInput.on("partner_organization_ids", "the lead organization cannot also be a partner")
    missing = set(partners) - uow.organizations.existing_ids(partners)
    if missing:
        raise InvalidInput.on("partner_organization_ids", f"unknown organizations {sorted(missing)}")
    for i, member in enumerate(p.team):
        if not str(member.get("name", "")).strip():
            raise InvalidInput.on(f"team.{i}.name", "must not be empty")
        member["email"] = normalize_email(str(member.get("email", "")))


def _apply(p: Proposal, fields: dict[str, Any], call: Call | None = None) -> None:
    """``call``: the proposal's call, needed when answers are given (they are checked against its questions)."""
    for key, value in fields.items():
        if key not in EDITABLE:
            raise InvalidInput.on(key, "cannot be set on a proposal")
        if key == "answers":
            assert call is not None, "answers are checked against the call's questions"
            p.answers = Answers(call.questions).merged(p.answers, dict(value))
        elif key == "partner_organization_ids":
            p.set_partners(list(value))
        elif key == "application_field":
            p.application_field = ApplicationField(value)
        elif key == "risk_category":
            p.risk_category = RiskCategory(value)
        elif key == "team":
            p.team = [dict(m) for m in value]
        else:
            setattr(p, key, value)


def create_draft(uow: UnitOfWork, clock: Clock, actor: Actor, *, call_id: int, **fields: Any) -> Proposal:
    """A draft for the actor's organization (the lead) in an open call; the actor becomes its author and future
    PI. Fields not given take the call's defaults: its first resource and duration, its least GPU-hours."""
    if actor.user.organization_id is None:
        raise Forbidden("only users of an organization can apply; register an organization first")
    call: Call = found(uow.calls.get(call_id), "call", call_id)
    now = clock.now()
    if not call.is_open(now.date()):
        raise InvalidInput.on("call_id", f"call {call.slug!r} is not open: choose an open call")
    p = Proposal(
        call_id=call_id,
        lead_organization_id=actor.user.organization_id,
        author_id=actor.id,
        title="",
        requested_gpu_hours=call.min_gpu_hours,
        resource_id=call.resource_ids[0],
        duration_months=call.durations_months[0],
        created_at=now,
        updated_at=now,
    )
    _apply(p, fields, call)
    _check_fields(uow, p, call)
    uow.proposals.add(p)
    record(uow, clock, actor, "proposal.created", p, None, snapshot(p))
    uow.commit()
    return p


def _own(uow: UnitOfWork, actor: Actor, proposal_id: int, *, lock: bool = False) -> Proposal:
    """A proposal the actor may change as applicant: its author, or the lead organization's admin."""
    p: Proposal | None = (uow.proposals.get_for_update if lock else uow.proposals.get)(proposal_id)
    if p is None or not can_see(uow, actor, p):
        raise NotFound(f"proposal {proposal_id} not found")
    if not is_applicant(actor, p):
        raise Forbidden("only the proposal's author or its organization's admin can change it")
    return p


def is_applicant(actor: Actor, p: Proposal) -> bool:
    """Whether the actor may change the proposal as applicant: its author, or the lead organization's admin."""
    is_admin = actor.user.is_org_admin and actor.user.organization_id == p.lead_organization_id
    return p.author_id == actor.id or is_admin


def applicant_may(actor: Actor, p: Proposal, action: Ask) -> bool:
    """Whether the applicant's pages offer ``action``: the actor is the applicant and the state allows it."""
    return is_applicant(actor, p) and allowed(p.status, action)


def edit(uow: UnitOfWork, clock: Clock, actor: Actor, proposal_id: int, changes: dict[str, Any]) -> Proposal:
    p = _own(uow, actor, proposal_id, lock=True)
    require(p.status, Action.EDIT)
    # read before the changes are applied: a read then would write the unchecked row first
    call: Call | None = (
        found(uow.calls.get(p.call_id), "call", p.call_id) if {"resource_id", "answers"} & set(changes) else None
    )
    offered_by = call if "resource_id" in changes else None
    before = snapshot(p)
    _apply(p, changes, call)
    _check_fields(uow, p, offered_by)
    p.updated_at = clock.now()
    record(uow, clock, actor, "proposal.edited", p, before, snapshot(p))
    uow.commit()
    return p


def site_calendar(uow: UnitOfWork, call: Call, around: date) -> Container[date]:
    site = found(uow.sites.get(call.site_id), "site", call.site_id)
    return holiday_calendar(site.country, site.holiday_subdivision, range(around.year - 1, around.year + 2))


def submit(uow: UnitOfWork, clock: Clock, actor: Actor, proposal_id: int) -> Proposal:
    """Checks ethics and eligibility, fixes the decision deadline; playground proposals under the
    threshold with nothing to flag are accepted at once, with their project and allocation."""
    from .decisions import accept  # decisions imports this module's readers

    p = _own(uow, actor, proposal_id, lock=True)
    check_verified(actor.user)  # an unverified sign-up submits nothing (domain.accounts)
    consent.require_confirmed(uow, clock, p)  # every partner organization confirmed (asked now if need be)
    before = snapshot(p)
    p.status = transition(p.status, Action.SUBMIT)
    call = found(uow.calls.get(p.call_id), "call", p.call_id)
    now = clock.now()
    problems = _problems(uow, p, call, now.date())
    if problems:
        errors = [FieldError(x.field, x.message) for x in problems]
        raise InvalidInput(f"the proposal cannot be submitted yet: {problems[0].message}", errors)
    p.submitted_at = p.updated_at = now
    p.decision_deadline = decision_deadline(
        now.date(), call.decision_working_days, call.cutoff_days, site_calendar(uow, call, now.date())
    )
    auto = auto_approvable(p, call.auto_approve_gpu_hours)
    if auto and (held := _over_self_service_limit(uow, call, p)) is not None:
        auto, p.held_reason = False, held
    record(uow, clock, actor, "proposal.submitted", p, before, snapshot(p))
    if auto:
        accept(
            uow,
            clock,
            None,
            p,
            awarded_gpu_hours=p.requested_gpu_hours,
            reason=auto_approved(p.requested_gpu_hours, call.auto_approve_gpu_hours or 0).text,
            action=Action.AUTO_ACCEPT,
        )
    uow.commit()
    return p


def _problems(uow: UnitOfWork, p: Proposal, call: Call, today: date) -> list[Problem]:
    org = found(uow.organizations.get(p.lead_organization_id), "organization", p.lead_organization_id)
    attached = {a.key for a in uow.attachments.for_proposal(p.stored_id)}
    return submission_problems(p, call, org_kind=org.kind, org_country=org.country, attached=attached, today=today)


@dataclass(frozen=True)
class Readiness:
    problems: list[Problem]  # in the proposal: what its author must still fill in or change
    waiting_for: list[str]  # outside it: "partner_consent" (a partner has not confirmed), "verified_email"


def check(uow: UnitOfWork, clock: Clock, actor: Actor, proposal_id: int) -> Readiness:
    """What submission would refuse now, by section. Asked by the applicant as they go; a proposal that is no
    longer a draft has nothing left to check."""
    p = _own(uow, actor, proposal_id)
    if not allowed(p.status, Action.SUBMIT):
        return Readiness([], [])
    call: Call = found(uow.calls.get(p.call_id), "call", p.call_id)
    confirmed = {c.organization_id for c in consent.for_proposal(uow, p) if c.state is ConsentState.CONFIRMED}
    waiting = ["partner_consent"] if set(p.partner_organization_ids) - confirmed else []
    waiting += ["verified_email"] if actor.user.email_verified_at is None else []
    return Readiness(_problems(uow, p, call, clock.now().date()), waiting)


def _over_self_service_limit(uow: UnitOfWork, call: Call, p: Proposal) -> str | None:
    """Why an auto-approvable proposal goes to an operator (None: it may be auto-approved). Counted under a lock
    on the lead organization's row, so that parallel submissions of one organization take turns and never both
    pass the last free place."""
    uow.organizations.lock(p.lead_organization_id)
    now = p.submitted_at or p.updated_at
    start = add_months(now.date(), -call.self_service_period_months)
    use = uow.proposals.self_service_use(
        p.call_id,
        p.lead_organization_id,
        since=now.replace(year=start.year, month=start.month, day=start.day),
        today=now.date(),
        exclude_id=p.stored_id,
    )
    return self_service_excess(call, use, p.requested_gpu_hours)


def withdraw(uow: UnitOfWork, clock: Clock, actor: Actor, proposal_id: int) -> Proposal:
    p = _own(uow, actor, proposal_id, lock=True)
    before = snapshot(p)
    p.status = transition(p.status, Action.WITHDRAW)
    p.updated_at = clock.now()
    record(uow, clock, actor, "proposal.withdrawn", p, before, snapshot(p))
    uow.commit()
    return p


def can_see(uow: UnitOfWork, actor: Actor, p: Proposal) -> bool:
    if actor.is_operator or actor.user.organization_id in p.organization_ids:
        return True
    return actor.user.is_reviewer and uow.assignments.find(p.stored_id, actor.id) is not None


def get(uow: UnitOfWork, actor: Actor, proposal_id: int) -> Proposal:
    p: Proposal | None = uow.proposals.get(proposal_id)
    if p is None or not can_see(uow, actor, p):
        raise NotFound(f"proposal {proposal_id} not found")
    return p


def list_visible(
    uow: UnitOfWork,
    actor: Actor,
    page: PageRequest,
    *,
    status: ProposalStatus | None = None,
    call_id: int | None = None,
    order: str | None = None,
) -> Page[Proposal]:
    """Operators get the most urgent first (overdue, then soon due) unless they ask otherwise."""
    order = order or ("deadline" if actor.is_operator else "created")
    listed: Page[Proposal] = uow.proposals.list(
        page, actor.proposal_scope(), status=status, call_id=call_id, order=order
    )
    return listed


def awaiting_decision(uow: UnitOfWork, actor: Actor, page: PageRequest) -> Page[Proposal]:
    """The operators' queue: submitted and under-review proposals, the earliest deadline first."""
    actor.require_operator()
    listed: Page[Proposal] = uow.proposals.awaiting_decision(page)
    return listed


def due(uow: UnitOfWork, clock: Clock, p: Proposal) -> DueStatus:
    return due_map(uow, clock, [p])[p.stored_id]


def due_map(uow: UnitOfWork, clock: Clock, items: list[Proposal]) -> dict[int, DueStatus]:
    """Due status of many proposals, loading each call's holiday calendar once (no N+1 per item)."""
    today = clock.now().date()
    calendars: dict[int, Container[date]] = {}
    out: dict[int, DueStatus] = {}
    for p in items:
        if p.status is ProposalStatus.DRAFT:
            out[p.stored_id] = DueStatus.NOT_SUBMITTED
        elif not allowed(p.status, "decide"):
            out[p.stored_id] = DueStatus.DECIDED
        else:
            if p.call_id not in calendars:
                call: Call = found(uow.calls.get(p.call_id), "call", p.call_id)
                calendars[p.call_id] = site_calendar(uow, call, today)
            out[p.stored_id] = due_status(p.decision_deadline, today, calendars[p.call_id])
    return out


def get_own(uow: UnitOfWork, actor: Actor, proposal_id: int) -> Proposal:
    """A proposal the actor may change as applicant (its author or the lead organization's admin):
    NotFound for proposals the actor cannot see, Forbidden for those they only see."""
    return _own(uow, actor, proposal_id)
