"""Raising notifications: each event stored once (by its dedup key) in the transaction of the change it reports,
with its recipients as they chose (``domain.notifications``); delivered later (``services.delivery``).

The one entry point for other services is :func:`notify_users` (people with accounts, by their preferences);
:func:`notify_org_admins` (e.g. a partner's consent requested) and :func:`notify_address` (the mandatory
e-mails: verification, password reset, invitation — also to an address without an account) build on it. The
events the factory raises itself: decisions, reviewer assignments, review reminders (:func:`note_reviews`, from
the reconciler), jobs that ended (opt-in), and the allocations' thresholds, exhaustion, suspension and expiry
(:func:`note`, :func:`note_lifecycle`). Reading, the inbox and preferences: ``services.inbox``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..domain.access import Page, PageRequest
from ..domain.enums import AllocationStatus, ProposalStatus
from ..domain.identity import User, normalize_email
from ..domain.jobs.model import Job
from ..domain.jobs.states import JobState
from ..domain.ledger import gpu_hours
from ..domain.notifications import (
    MANDATORY,
    Channel,
    Notification,
    Recipient,
    check_language,
    routes,
    summary,
    topic_of,
)
from ..domain.projects import Allocation
from ..domain.proposals import Proposal
from ..domain.reviews import ReviewAssignment
from ..domain.stored import stored
from . import projects
from .context import Actor
from .ports import Clock, UnitOfWork

CHANNEL_NAMES = frozenset(c.value for c in Channel)


@dataclass(frozen=True)
class About:
    """What a notification concerns (each optional): the outbox, the webhook and the API name them."""

    allocation_id: int | None = None
    project_id: int | None = None
    proposal_id: int | None = None
    job_id: int | None = None


EXPIRING_DAYS = 7
REVIEW_DUE_DAYS = 2  # a review is "due" this many days before the decision deadline


def notify_users(
    uow: UnitOfWork,
    clock: Clock,
    user_ids: Iterable[int | None],
    event: str,
    data: Mapping[str, Any],
    *,
    dedup_key: str,
    message: str | None = None,
    secret: Mapping[str, Any] | None = None,
    always: bool = False,
    about: About | None = None,
) -> Notification | None:
    """Store ``event`` for these users (inactive ones and repeats left out), each by the channel they chose for
    its topic; None when the key was raised before, or when nobody wants it (``always``: stored anyway, for the
    webhook and the projects' outbox). ``about``: what it concerns. Runs in the caller's transaction (the
    caller commits)."""
    if uow.notifications.by_key(dedup_key) is not None:
        return None
    users = _active_users(uow, user_ids)
    topic = topic_of(event)
    chosen = uow.notifications.channels([u.stored_id for u in users], topic.value) if topic is not None else {}
    wanted = [(u, *routes(event, _channel(chosen.get(u.stored_id)))) for u in users]
    wanted = [(u, inbox, email) for u, inbox, email in wanted if inbox or email]
    if not wanted and not always:
        return None
    n = _store(uow, clock, event, data, dedup_key, message, secret, any(e for _, _, e in wanted), about or About())
    for user, inbox, email in wanted:
        uow.notifications.add_recipient(
            Recipient(
                notification_id=n.stored_id,
                user_id=user.stored_id,
                language=user.language,
                in_inbox=inbox,
                email_state="pending" if email else "off",
            )
        )
    return n


def notify_org_admins(
    uow: UnitOfWork,
    clock: Clock,
    organization_id: int,
    event: str,
    data: Mapping[str, Any],
    *,
    dedup_key: str,
    about: About | None = None,
) -> Notification | None:
    """:func:`notify_users` for the organization's admins (e.g. ``consent-requested`` to a partner)."""
    admins = [u.id for u in _members(uow, organization_id) if u.is_org_admin]
    return notify_users(uow, clock, admins, event, data, dedup_key=dedup_key, about=about)


def notify_address(
    uow: UnitOfWork,
    clock: Clock,
    email: str,
    event: str,
    data: Mapping[str, Any],
    *,
    dedup_key: str,
    language: str = "en",
    secret: Mapping[str, Any] | None = None,
) -> Notification | None:
    """A mandatory e-mail (``verify-email``, ``password-reset``, ``invitation``) to an address, whether or not it
    has an account (a user's own language wins over ``language``); preferences do not apply and it never shows
    in an inbox. ``secret`` (a link with a single-use token) is kept only until the e-mail is settled."""
    if event not in MANDATORY:
        raise ValueError(f"{event!r} is not a mandatory e-mail ({', '.join(sorted(MANDATORY))})")
    if uow.notifications.by_key(dedup_key) is not None:
        return None
    address = normalize_email(email)
    user = uow.users.by_email(address)
    n = _store(uow, clock, event, data, dedup_key, None, secret, True, About())
    known = user is not None and user.active
    uow.notifications.add_recipient(
        Recipient(
            notification_id=n.stored_id,
            user_id=user.stored_id if known and user is not None else None,
            email=None if known else address,
            language=user.language if known and user is not None else check_language(language),
            in_inbox=False,
        )
    )
    return n


def _store(
    uow: UnitOfWork,
    clock: Clock,
    event: str,
    data: Mapping[str, Any],
    dedup_key: str,
    message: str | None,
    secret: Mapping[str, Any] | None,
    by_email: bool,
    about: About,
) -> Notification:
    plain = {k: v for k, v in data.items() if v is not None}
    return uow.notifications.add(
        Notification(
            event=event,
            message=(message or summary(event, plain))[:2000],
            data=plain,
            secret=dict(secret) if secret else None,
            created_at=clock.now(),
            dedup_key=dedup_key[:200],
            webhook_state="off" if event in MANDATORY else "pending",
            email_state="pending" if by_email else "off",
            allocation_id=about.allocation_id,
            project_id=about.project_id,
            proposal_id=about.proposal_id,
            job_id=about.job_id,
        )
    )


def _channel(value: str | None) -> Channel | None:
    return Channel(value) if value in CHANNEL_NAMES else None


def _active_users(uow: UnitOfWork, user_ids: Iterable[int | None]) -> list[User]:
    out: list[User] = []
    for uid in dict.fromkeys(u for u in user_ids if u is not None):
        user = uow.users.get(uid)
        if user is not None and user.active:
            out.append(user)
    return out


def _members(uow: UnitOfWork, organization_id: int) -> list[User]:
    offset, out = 0, []
    while True:
        page = uow.users.list(PageRequest(limit=500, offset=offset), organization_id=organization_id)
        out.extend(page.items)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return out


# ------------------------------------------------------------------ proposals, reviews, jobs


def proposal_decided(uow: UnitOfWork, clock: Clock, p: Proposal) -> Notification | None:
    """The decision, with its reason, to the applicant's team: the author and the team's members who have an
    account in one of the proposal's organizations."""
    accepted = p.status is ProposalStatus.ACCEPTED
    event = "proposal-accepted" if accepted else "proposal-rejected"
    data = {
        "title": p.title,
        "proposal_id": p.stored_id,
        "gpu_hours": p.awarded_gpu_hours if accepted else None,
        "reason": p.decision_reason or None,
        "path": f"/proposals/{p.stored_id}",
    }
    line = summary(event, data)
    message = f"{line}: {p.decision_reason}" if p.decision_reason else line
    return notify_users(
        uow,
        clock,
        [p.author_id, *_team_accounts(uow, p)],
        event,
        data,
        dedup_key=f"proposal:{p.stored_id}:decided",
        message=message,
        about=About(proposal_id=p.stored_id),
    )


def _team_accounts(uow: UnitOfWork, p: Proposal) -> list[int | None]:
    out: list[int | None] = []
    for entry in p.team:
        user = uow.users.by_email(str(entry.get("email", "")))
        if user is not None and user.organization_id in p.organization_ids:
            out.append(user.id)
    return out


def reviewer_assigned(uow: UnitOfWork, clock: Clock, a: ReviewAssignment, p: Proposal) -> Notification | None:
    data = {
        "title": p.title,
        "proposal_id": p.stored_id,
        "deadline": p.decision_deadline.isoformat() if p.decision_deadline else None,
        "path": f"/reviews/{p.stored_id}",
    }
    key = f"review-assigned:{stored(a.id, 'the assignment')}"
    about = About(proposal_id=p.stored_id)
    return notify_users(uow, clock, [a.reviewer_id], "review-assigned", data, dedup_key=key, about=about)


def reviewer_recused(
    uow: UnitOfWork, clock: Clock, a: ReviewAssignment, p: Proposal, reviewer: str
) -> Notification | None:
    """A reviewer declared a conflict of interest: the operators are told, to assign another one."""
    operators = uow.users.list(PageRequest(limit=500, offset=0), role="operator").items
    data = {
        "title": p.title,
        "proposal_id": p.stored_id,
        "reviewer": reviewer,
        "path": f"/operator/proposals/{p.stored_id}",
    }
    key = f"reviewer-recused:{stored(a.id, 'the assignment')}"
    about = About(proposal_id=p.stored_id)
    return notify_users(uow, clock, [u.id for u in operators], "reviewer-recused", data, dedup_key=key, about=about)


def note_reviews(uow: UnitOfWork, clock: Clock, today: date | None = None) -> list[Notification]:
    """Reminders to reviewers, computed from the decision deadlines: ``review-due`` within REVIEW_DUE_DAYS of
    the deadline, ``review-overdue`` once it passed; each once per assignment. Commits."""
    today = today or clock.now().date()
    reviews = uow.notifications.open_reviews(today + timedelta(days=REVIEW_DUE_DAYS))
    keyed = [(f"review-{'overdue' if r.deadline < today else 'due'}:{r.assignment_id}", r) for r in reviews]
    done = uow.notifications.existing_keys([k for k, _ in keyed])
    raised = []
    for key, r in keyed:
        if key in done:
            continue
        event = key.split(":", 1)[0]
        data = {"title": r.title, "proposal_id": r.proposal_id, "deadline": r.deadline.isoformat()}
        data["path"] = f"/reviews/{r.proposal_id}"
        n = notify_users(
            uow, clock, [r.reviewer_id], event, data, dedup_key=key, about=About(proposal_id=r.proposal_id)
        )
        if n is not None:
            raised.append(n)
    uow.commit()
    return raised


JOB_EVENTS = {JobState.COMPLETED: "job-finished", JobState.FAILED: "job-failed", JobState.TIMEOUT: "job-failed"}


def job_ended(uow: UnitOfWork, clock: Clock, job: Job) -> Notification | None:
    """A job that completed, failed or ran out of time, to whoever submitted it if they opted in (cancelled jobs:
    nothing; they were cancelled by a person)."""
    event = JOB_EVENTS.get(job.state)
    if event is None:
        return None
    data = {"job_id": job.stored_id, "name": job.name, "state": job.state.value, "path": f"/jobs/{job.stored_id}"}
    return notify_users(
        uow,
        clock,
        [job.submitted_by],
        event,
        data,
        dedup_key=f"job:{job.stored_id}:ended",
        about=About(job_id=job.stored_id, project_id=job.project_id),
    )


# ------------------------------------------------------------------ allocations


def note(uow: UnitOfWork, clock: Clock, alloc: Allocation, event: str, message: str) -> Notification | None:
    """``event`` on ``alloc`` (thresholds, exhaustion, suspension, expiry) to its project's members, unless it
    was raised before; stored even when no member wants it (the webhook and the outbox show it)."""
    project_id = stored(alloc.project_id, "the allocation's project")
    project = projects.project_of(uow, alloc)
    data = {
        "project": project.name,
        "project_id": project_id,
        "percent": round(alloc.balance.used_fraction * 100),
        "gpu_hours": f"{gpu_hours(alloc.balance.granted):,.0f}",
        "end_date": alloc.end_date.isoformat(),
        "reason": alloc.status_reason or None,
        "path": f"/projects/{project_id}",
    }
    return notify_users(
        uow,
        clock,
        [m.user_id for m in project.members],
        event,
        data,
        dedup_key=f"allocation:{alloc.stored_id}:{event}",
        message=message,
        always=True,
        about=About(allocation_id=alloc.stored_id, project_id=project_id),
    )


def note_lifecycle(uow: UnitOfWork, clock: Clock, today: date | None = None) -> list[Notification]:
    """``expired`` for allocations past their end date, ``expiring-7d`` for active ones ending within
    7 days; each once per allocation. Commits; returns the notifications raised now."""
    today = today or clock.now().date()
    raised: list[Notification] = []
    for alloc in uow.allocations.all():
        event, message = _lifecycle_event(uow, alloc, today)
        if event and (n := note(uow, clock, alloc, event, message)) is not None:
            raised.append(n)
    uow.commit()
    return raised


def _lifecycle_event(uow: UnitOfWork, alloc: Allocation, today: date) -> tuple[str | None, str]:
    status = alloc.effective_status(today)
    days_left = (alloc.end_date - today).days
    if status is AllocationStatus.EXPIRED:
        name = projects.project_of(uow, alloc).name
        return "expired", f"The allocation of project {name!r} ended on {alloc.end_date.isoformat()}"
    if status is AllocationStatus.ACTIVE and 0 <= days_left <= EXPIRING_DAYS:
        name = projects.project_of(uow, alloc).name
        when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
        return "expiring-7d", f"The allocation of project {name!r} ends {when} ({alloc.end_date.isoformat()})"
    return None, ""


def list_notifications(
    uow: UnitOfWork, actor: Actor, page: PageRequest, project_id: int | None = None
) -> Page[Notification]:
    """The projects' outbox, newest first: members see their projects' notifications and how far their delivery
    got, operators all; another tenant's project answers 404, like the project itself."""
    if project_id is not None:
        projects.get(uow, actor, project_id)
    return uow.notifications.visible(page, actor.project_scope(), project_id=project_id)
