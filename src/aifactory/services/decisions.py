"""Reviewer assignment, reviews, and the operator's decision (which creates project and allocation)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from ..domain.access import PageRequest
from ..domain.calendar import add_months
from ..domain.calls import Call
from ..domain.enums import ProjectRole, ProposalStatus
from ..domain.errors import Conflict, Forbidden, InvalidInput
from ..domain.identity import User
from ..domain.projects import Allocation, Project, ProjectMember, slurm_account_name
from ..domain.proposals import (
    Action,
    Proposal,
    allowed,
    check_award,
    check_reviews_in,
    decision_ready,
    require,
    transition,
)
from ..domain.reviews import (
    Review,
    ReviewAssignment,
    check_may_declare,
    check_may_score,
    check_no_conflict,
    validate_scores,
)
from . import ledger, notifications
from .audit import record, snapshot
from .context import Actor, found
from .ports import Clock, UnitOfWork
from .proposals import get as get_proposal


def _reviewers(uow: UnitOfWork) -> Iterator[User]:
    """Every user with the reviewer role, a page at a time."""
    offset = 0
    while True:
        page = uow.users.list(PageRequest(limit=500, offset=offset), role="reviewer")
        yield from page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def reviewer_candidates(uow: UnitOfWork, actor: Actor, proposal_id: int) -> list[User]:
    """Who may be assigned to review the proposal now (operators only): active reviewers without a conflict of
    interest (none from the lead or a partner organization) and not yet assigned; nobody once the proposal's
    state allows no assignment."""
    actor.require_operator()
    p: Proposal = found(uow.proposals.get(proposal_id), "proposal", proposal_id)
    if not allowed(p.status, "assign"):
        return []
    assigned = {a.reviewer_id for a in uow.assignments.for_proposal(p.stored_id)}
    conflicted = p.organization_ids
    return [u for u in _reviewers(uow) if u.active and u.organization_id not in conflicted and u.id not in assigned]


def assign_reviewers(
    uow: UnitOfWork, clock: Clock, actor: Actor, proposal_id: int, reviewer_ids: list[int]
) -> list[ReviewAssignment]:
    actor.require_operator()
    p: Proposal = found(uow.proposals.get_for_update(proposal_id), "proposal", proposal_id)
    before = snapshot(p)
    p.status = transition(p.status, Action.ASSIGN_REVIEWERS)
    if not reviewer_ids:
        raise InvalidInput.on("reviewer_ids", "name at least one reviewer")
    for rid in dict.fromkeys(reviewer_ids):
        reviewer = uow.users.get(rid)
        if reviewer is None or not reviewer.is_reviewer or not reviewer.active:
            raise InvalidInput.on("reviewer_ids", f"user {rid} is not an active reviewer")
        check_no_conflict(reviewer.organization_id, p.organization_ids)
        if uow.assignments.find(p.stored_id, rid) is None:
            a = uow.assignments.add(
                ReviewAssignment(
                    proposal_id=p.stored_id, reviewer_id=rid, assigned_by=actor.id, assigned_at=clock.now()
                )
            )
            record(uow, clock, actor, "review.assigned", a, None, snapshot(a))
            notifications.reviewer_assigned(uow, clock, a, p)
    p.updated_at = clock.now()
    record(uow, clock, actor, "proposal.reviewers_assigned", p, before, snapshot(p))
    uow.commit()
    assigned: list[ReviewAssignment] = uow.assignments.for_proposal(p.stored_id)
    return assigned


def submit_review(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    proposal_id: int,
    *,
    scores: dict[str, int],
    comments: dict[str, str] | None = None,
    summary: str = "",
    declare_no_conflict: bool = False,
) -> Review:
    """``declare_no_conflict``: the reviewer's declaration of no conflict of interest, recorded with the review
    (without it, one must have been made before: ``declare_interests``)."""
    p: Proposal = found(uow.proposals.get_for_update(proposal_id), "proposal", proposal_id)
    assignment = _assignment(uow, actor, p)
    transition(p.status, Action.REVIEW)
    check_no_conflict(actor.user.organization_id, p.organization_ids)
    if declare_no_conflict and assignment.declared_at is None:
        _declare(uow, clock, actor, assignment, conflict=False, note="")
    check_may_score(assignment)
    validate_scores(scores)
    comments = comments or {}
    if set(comments) - set(scores):
        raise InvalidInput.on("comments", f"unknown criteria {sorted(set(comments) - set(scores))}")
    if any(r.reviewer_id == actor.id for r in uow.reviews.for_proposal(p.stored_id)):
        raise Conflict("you have already reviewed this proposal")
    review: Review = uow.reviews.add(
        Review(
            proposal_id=p.stored_id,
            reviewer_id=actor.id,
            score_excellence=scores["excellence"],
            score_impact=scores["impact"],
            score_feasibility=scores["feasibility"],
            comment_excellence=comments.get("excellence", ""),
            comment_impact=comments.get("impact", ""),
            comment_feasibility=comments.get("feasibility", ""),
            summary=summary,
            submitted_at=clock.now(),
        )
    )
    record(uow, clock, actor, "review.submitted", review, None, snapshot(review))
    uow.commit()
    return review


def _assignment(uow: UnitOfWork, actor: Actor, p: Proposal) -> ReviewAssignment:
    assignment = uow.assignments.find(p.stored_id, actor.id)
    if assignment is None:
        get_proposal(uow, actor, p.stored_id)  # not found to whoever may not see it: the id is not confirmed
        raise Forbidden("you are not assigned to review this proposal")
    return assignment


def _declare(uow: UnitOfWork, clock: Clock, actor: Actor, a: ReviewAssignment, *, conflict: bool, note: str) -> None:
    before = snapshot(a)
    a.declared_at, a.conflict, a.conflict_note = clock.now(), conflict, note.strip()
    record(uow, clock, actor, "review.interests_declared", a, before, snapshot(a))


def declare_interests(
    uow: UnitOfWork, clock: Clock, actor: Actor, proposal_id: int, *, conflict: bool, note: str = ""
) -> ReviewAssignment:
    """The assigned reviewer's declaration before scoring: no conflict of interest (they may score), or a conflict
    (they are recused: they score nothing and the operators see why)."""
    p: Proposal = found(uow.proposals.get_for_update(proposal_id), "proposal", proposal_id)
    assignment = _assignment(uow, actor, p)
    require(p.status, Action.REVIEW)
    reviewed = any(r.reviewer_id == actor.id for r in uow.reviews.for_proposal(p.stored_id))
    check_may_declare(assignment, reviewed, conflict, note)
    _declare(uow, clock, actor, assignment, conflict=conflict, note=note)
    if conflict:
        notifications.reviewer_recused(uow, clock, assignment, p, actor.user.name)
    uow.commit()
    return assignment


def reviews_of(uow: UnitOfWork, actor: Actor, proposal_id: int) -> tuple[list[Review], bool]:
    """(reviews, anonymous). Operators see all with names; reviewers their own; applicants all,
    anonymously, once the proposal is decided."""
    p = get_proposal(uow, actor, proposal_id)
    reviews = uow.reviews.for_proposal(p.stored_id)
    if actor.is_operator:
        return reviews, False
    if actor.user.organization_id in p.organization_ids:
        decided = p.status in (ProposalStatus.ACCEPTED, ProposalStatus.REJECTED)
        return (reviews if decided else []), True
    return [r for r in reviews if r.reviewer_id == actor.id], False


def decide(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    proposal_id: int,
    *,
    accept_it: bool,
    reason: str = "",
    awarded_gpu_hours: int | None = None,
    start_date: date | None = None,
) -> Proposal:
    actor.require_operator()
    p: Proposal = found(uow.proposals.get_for_update(proposal_id), "proposal", proposal_id)
    # The state first: deciding a draft or a decided proposal is a conflict of state, not of missing reviews.
    require(p.status, Action.ACCEPT if accept_it else Action.REJECT)
    if accept_it:
        check_reviews_in(*_reviews_done_and_required(uow, p))
        awarded = p.requested_gpu_hours if awarded_gpu_hours is None else awarded_gpu_hours
        accept(uow, clock, actor, p, awarded_gpu_hours=awarded, reason=reason, start_date=start_date)
    else:
        if not reason.strip():
            raise InvalidInput.on("reason", "a rejection needs a reason")
        before = snapshot(p)
        p.status = transition(p.status, Action.REJECT)
        p.decided_at = p.updated_at = clock.now()
        p.decided_by, p.decision_reason = actor.id, reason.strip()
        record(uow, clock, actor, "proposal.rejected", p, before, snapshot(p))
        notifications.proposal_decided(uow, clock, p)
    uow.commit()
    return p


def _reviews_done_and_required(uow: UnitOfWork, p: Proposal) -> tuple[int, int]:
    call: Call = found(uow.calls.get(p.call_id), "call", p.call_id)
    return len(uow.reviews.for_proposal(p.stored_id)), call.required_reviews


def ready_to_accept(uow: UnitOfWork, p: Proposal) -> bool:
    """Whether an operator may accept the proposal now: its state allows it and the call's required reviews
    are in (what ``decide`` would otherwise refuse with a Conflict)."""
    return decision_ready(p.status, *_reviews_done_and_required(uow, p))


def accept(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor | None,
    p: Proposal,
    *,
    awarded_gpu_hours: int,
    reason: str = "",
    start_date: date | None = None,
    action: Action = Action.ACCEPT,
) -> Project:
    """Accepted proposal → project (members from its organizations) + allocation, in the caller's transaction."""
    check_award(p.requested_gpu_hours, awarded_gpu_hours)
    before = snapshot(p)
    p.status = transition(p.status, action)
    now = clock.now()
    p.decided_at = p.updated_at = now
    p.decided_by = actor.id if actor else None
    p.decision_reason, p.awarded_gpu_hours = reason.strip(), awarded_gpu_hours
    record(uow, clock, actor, f"proposal.{action.value}ed", p, before, snapshot(p))
    project = _create_project(uow, clock, actor, p)
    start = start_date or now.date()
    alloc = Allocation(
        resource_id=p.resource_id,
        gpu_hours=awarded_gpu_hours,
        start_date=start,
        end_date=add_months(start, p.duration_months) - timedelta(days=1),
        created_at=now,
    )
    project.allocations.append(alloc)
    uow.flush()
    assert project.id is not None  # stored by _create_project
    ledger.grant(uow, clock, alloc, project.id, actor.id if actor else None)
    record(uow, clock, actor, "allocation.created", alloc, None, snapshot(alloc))
    notifications.proposal_decided(uow, clock, p)
    return project


def _create_project(uow: UnitOfWork, clock: Clock, actor: Actor | None, p: Proposal) -> Project:
    now = clock.now()
    orgs = sorted(p.organization_ids)
    project = Project(
        proposal_id=p.stored_id,
        name=p.title,
        slurm_account=f"pending_{p.stored_id}",
        lead_organization_id=p.lead_organization_id,
        organization_ids=orgs,
        created_at=now,
    )
    project.members.append(ProjectMember(user_id=p.author_id, role=ProjectRole.PI, added_at=now))
    for entry in p.team:  # team members who already have accounts in a project organization join at once
        user = uow.users.by_email(entry.get("email", ""))
        if user and user.id is not None and user.id != p.author_id and user.organization_id in orgs:
            project.members.append(ProjectMember(user_id=user.id, role=ProjectRole.MEMBER, added_at=now))
    uow.projects.add(project)
    assert project.id is not None  # the store gives it on add
    project.slurm_account = slurm_account_name(project.id, p.title)
    uow.flush()
    record(uow, clock, actor, "project.created", project, None, snapshot(project))
    return project


def review_queue(uow: UnitOfWork, actor: Actor) -> list[tuple[ReviewAssignment, Proposal, bool]]:
    """The reviewer's assignments, open ones first: (assignment, proposal, already reviewed)."""
    assignments = uow.assignments.for_reviewer(actor.id, PageRequest(limit=1000)).items
    out = []
    for a in assignments:
        p = found(uow.proposals.get(a.proposal_id), "proposal", a.proposal_id)
        reviewed = any(r.reviewer_id == actor.id for r in uow.reviews.for_proposal(p.stored_id))
        out.append((a, p, reviewed))
    return sorted(out, key=lambda t: (t[2], t[1].decision_deadline or date.max))
