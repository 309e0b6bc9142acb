"""Reviewer assignment, reviews, and the operator's decision (which creates project and allocation)."""

from __future__ import annotations

from datetime import date, timedelta

from ..domain.calendar import add_months
from ..domain.enums import ProjectRole, ProposalStatus
from ..domain.errors import Conflict, Forbidden, InvalidInput
from ..domain.projects import Allocation, Project, ProjectMember, slurm_account_name
from ..domain.proposals import Action, Proposal, check_award, transition
from ..domain.reviews import Review, ReviewAssignment, check_no_conflict, validate_scores
from . import ledger
from .audit import record, snapshot
from .context import Actor, found
from .ports import Clock, UnitOfWork
from .proposals import get as get_proposal


def assign_reviewers(
    uow: UnitOfWork, clock: Clock, actor: Actor, proposal_id: int, reviewer_ids: list[int]
) -> list[ReviewAssignment]:
    actor.require_operator()
    p = found(uow.proposals.get_for_update(proposal_id), "proposal", proposal_id)
    before = snapshot(p)
    p.status = transition(p.status, Action.ASSIGN_REVIEWERS)
    if not reviewer_ids:
        raise InvalidInput.on("reviewer_ids", "name at least one reviewer")
    for rid in dict.fromkeys(reviewer_ids):
        reviewer = uow.users.get(rid)
        if reviewer is None or not reviewer.is_reviewer or not reviewer.active:
            raise InvalidInput.on("reviewer_ids", f"user {rid} is not an active reviewer")
        check_no_conflict(reviewer.organization_id, p.organization_ids)
        if uow.assignments.find(p.id, rid) is None:
            a = uow.assignments.add(
                ReviewAssignment(proposal_id=p.id, reviewer_id=rid, assigned_by=actor.id, assigned_at=clock.now())
            )
            record(uow, clock, actor, "review.assigned", a, None, snapshot(a))
    p.updated_at = clock.now()
    record(uow, clock, actor, "proposal.reviewers_assigned", p, before, snapshot(p))
    uow.commit()
    return uow.assignments.for_proposal(p.id)


def submit_review(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    proposal_id: int,
    *,
    scores: dict[str, int],
    comments: dict[str, str] | None = None,
    summary: str = "",
) -> Review:
    p = found(uow.proposals.get_for_update(proposal_id), "proposal", proposal_id)
    if uow.assignments.find(p.id, actor.id) is None:
        raise Forbidden("you are not assigned to review this proposal")
    transition(p.status, Action.REVIEW)
    check_no_conflict(actor.user.organization_id, p.organization_ids)
    validate_scores(scores)
    comments = comments or {}
    if set(comments) - set(scores):
        raise InvalidInput.on("comments", f"unknown criteria {sorted(set(comments) - set(scores))}")
    if any(r.reviewer_id == actor.id for r in uow.reviews.for_proposal(p.id)):
        raise Conflict("you have already reviewed this proposal")
    review = uow.reviews.add(
        Review(
            proposal_id=p.id,
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


def reviews_of(uow: UnitOfWork, actor: Actor, proposal_id: int) -> tuple[list[Review], bool]:
    """(reviews, anonymous). Operators see all with names; reviewers their own; applicants all,
    anonymously, once the proposal is decided."""
    p = get_proposal(uow, actor, proposal_id)
    reviews = uow.reviews.for_proposal(p.id)
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
    p = found(uow.proposals.get_for_update(proposal_id), "proposal", proposal_id)
    # The state first: deciding a draft or a decided proposal is a conflict of state, not of missing reviews.
    transition(p.status, Action.ACCEPT if accept_it else Action.REJECT)
    if accept_it:
        call = uow.calls.get(p.call_id)
        done = len(uow.reviews.for_proposal(p.id))
        if done < call.required_reviews:
            raise Conflict(f"{done} of the {call.required_reviews} required reviews are in; wait for the rest")
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
    uow.commit()
    return p


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
    ledger.grant(uow, clock, alloc, project.id, actor.id if actor else None)
    record(uow, clock, actor, "allocation.created", alloc, None, snapshot(alloc))
    return project


def _create_project(uow: UnitOfWork, clock: Clock, actor: Actor | None, p: Proposal) -> Project:
    now = clock.now()
    orgs = sorted(p.organization_ids)
    project = Project(
        proposal_id=p.id,
        name=p.title,
        slurm_account=f"pending_{p.id}",
        lead_organization_id=p.lead_organization_id,
        organization_ids=orgs,
        created_at=now,
    )
    project.members.append(ProjectMember(user_id=p.author_id, role=ProjectRole.PI, added_at=now))
    for entry in p.team:  # team members who already have accounts in a project organization join at once
        user = uow.users.by_email(entry.get("email", ""))
        if user and user.id != p.author_id and user.organization_id in orgs:
            project.members.append(ProjectMember(user_id=user.id, role=ProjectRole.MEMBER, added_at=now))
    uow.projects.add(project)
    project.slurm_account = slurm_account_name(project.id, p.title)
    uow.flush()
    record(uow, clock, actor, "project.created", project, None, snapshot(project))
    return project


def review_queue(uow: UnitOfWork, actor: Actor) -> list[tuple[ReviewAssignment, Proposal, bool]]:
    """The reviewer's assignments, open ones first: (assignment, proposal, already reviewed)."""
    from ..domain.access import PageRequest

    assignments = uow.assignments.for_reviewer(actor.id, PageRequest(limit=1000)).items
    out = []
    for a in assignments:
        p = uow.proposals.get(a.proposal_id)
        reviewed = any(r.reviewer_id == actor.id for r in uow.reviews.for_proposal(p.id))
        out.append((a, p, reviewed))
    return sorted(out, key=lambda t: (t[2], t[1].decision_deadline or date.max))
