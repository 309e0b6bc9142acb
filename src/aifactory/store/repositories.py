"""Repositories: the only place that writes SQL. Scopes (domain.access) become WHERE clauses here."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session, noload

from ..domain.access import Page, PageRequest, ProjectScope, ProposalScope
from ..domain.audit import AuditEvent
from ..domain.calls import Call, SelfServiceUse
from ..domain.enums import ProjectRole, ProposalStatus
from ..domain.identity import ApiToken, Organization, User, WebSession
from ..domain.jobs.model import Job, JobRow
from ..domain.jobs.states import TERMINAL
from ..domain.projects import Allocation, Project
from ..domain.proposals import Proposal
from ..domain.reviews import Review, ReviewAssignment
from ..domain.sites import Resource, Site
from . import tables as t
from .mapping import relationship_of

T = TypeVar("T")


def in_scope(stmt: Select[T], project_id: ColumnElement[Any], scope: ProjectScope) -> Select[T]:
    """``stmt`` limited to the projects ``scope`` sees (``project_id``: the column naming the row's project)."""
    if scope.everything:
        return stmt
    return stmt.where(
        project_id.in_(select(t.project_members.c.project_id).where(t.project_members.c.user_id == scope.member_id))
    )


class Repository(Generic[T]):
    entity: type[T]

    def __init__(self, session: Session):
        self.session = session

    def get(self, id_: int) -> T | None:
        return self.session.get(self.entity, id_)

    def add(self, obj: T) -> T:
        self.session.add(obj)
        self.session.flush()
        return obj

    def _page(self, stmt: Select[Any], page: PageRequest) -> Page[T]:
        total = self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        items = list(self.session.scalars(stmt.limit(page.limit).offset(page.offset)))
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)


class OrganizationRepository(Repository[Organization]):
    entity = Organization

    def by_name(self, name: str) -> Organization | None:
        return self.session.scalar(select(Organization).where(func.lower(t.organizations.c.name) == name.lower()))

    def list(
        self, page: PageRequest, *, kind: str | None = None, country: str | None = None, q: str | None = None
    ) -> Page[Organization]:
        stmt = select(Organization).order_by(t.organizations.c.name)
        if kind:
            stmt = stmt.where(t.organizations.c.kind == kind)
        if country:
            stmt = stmt.where(t.organizations.c.country == country.upper())
        if q:
            stmt = stmt.where(func.lower(t.organizations.c.name).contains(q.lower(), autoescape=True))
        return self._page(stmt, page)

    def existing_ids(self, ids: Collection[int]) -> set[int]:
        if not ids:
            return set()
        return set(self.session.scalars(select(t.organizations.c.id).where(t.organizations.c.id.in_(ids))))

    def names(self, ids: Collection[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.session.execute(
            select(t.organizations.c.id, t.organizations.c.name).where(t.organizations.c.id.in_(ids))
        )
        return {int(i): str(n) for i, n in rows}

    def lock(self, id_: int) -> Organization | None:
        """``SELECT … FOR NO KEY UPDATE`` on PostgreSQL: lockers take turns, while the KEY SHARE locks that rows
        referring to the organization take (a proposal updated twice in one transaction) do not conflict with it,
        so two lockers that hold those never deadlock. SQLite serializes writers with BEGIN IMMEDIATE."""
        return self.session.get(Organization, id_, with_for_update={"key_share": True}, populate_existing=True)


class UserRepository(Repository[User]):
    entity = User

    def by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(t.users.c.email == email.lower()))

    def list(self, page: PageRequest, *, organization_id: int | None = None, role: str | None = None) -> Page[User]:
        stmt = select(User).order_by(t.users.c.id)
        if organization_id is not None:
            stmt = stmt.where(t.users.c.organization_id == organization_id)
        if role == "operator":
            stmt = stmt.where(t.users.c.is_operator.is_(True))
        elif role == "reviewer":
            stmt = stmt.where(t.users.c.is_reviewer.is_(True))
        return self._page(stmt, page)


class TokenRepository(Repository[ApiToken]):
    entity = ApiToken

    def by_hash(self, token_hash: str) -> ApiToken | None:
        return self.session.scalar(select(ApiToken).where(t.api_tokens.c.token_hash == token_hash))

    def for_user(self, user_id: int) -> list[ApiToken]:
        return list(
            self.session.scalars(select(ApiToken).where(t.api_tokens.c.user_id == user_id).order_by(t.api_tokens.c.id))
        )


class WebSessionRepository(Repository[WebSession]):
    entity = WebSession

    def by_hash(self, token_hash: str) -> WebSession | None:
        return self.session.scalar(select(WebSession).where(t.web_sessions.c.token_hash == token_hash))

    def end_all(self, user_id: int, at: datetime) -> int:
        """Ends every live session of a user (password change, deactivation)."""
        live = self.session.scalars(
            select(WebSession).where(t.web_sessions.c.user_id == user_id, t.web_sessions.c.ended_at.is_(None))
        )
        n = 0
        for s in live:
            s.ended_at = at
            n += 1
        return n


class SiteRepository(Repository[Site]):
    entity = Site

    def by_slug(self, slug: str) -> Site | None:
        return self.session.scalar(select(Site).where(t.sites.c.slug == slug))

    def list_all(self) -> list[Site]:
        return list(self.session.scalars(select(Site).order_by(t.sites.c.id)))


class ResourceRepository(Repository[Resource]):
    entity = Resource

    def list_all(self) -> list[Resource]:
        return list(self.session.scalars(select(Resource).order_by(t.resources.c.id)))


class CallRepository(Repository[Call]):
    entity = Call

    def by_slug(self, slug: str) -> Call | None:
        return self.session.scalar(select(Call).where(t.calls.c.slug == slug))

    def list(self, page: PageRequest, *, access_mode: str | None = None, open_on: date | None = None) -> Page[Call]:
        stmt = select(Call).order_by(t.calls.c.opens_on.desc(), t.calls.c.id)
        if access_mode:
            stmt = stmt.where(t.calls.c.access_mode == access_mode)
        if open_on is not None:  # mirrors Call.is_open
            stmt = stmt.where(
                t.calls.c.closed.is_(False),
                t.calls.c.opens_on <= open_on,
                or_(t.calls.c.closes_on.is_(None), t.calls.c.closes_on >= open_on),
            )
        return self._page(stmt, page)


class ProposalRepository(Repository[Proposal]):
    entity = Proposal

    def get_for_update(self, id_: int) -> Proposal | None:
        """Row-locked on PostgreSQL; SQLite serializes writers with BEGIN IMMEDIATE."""
        return self.session.get(Proposal, id_, with_for_update=True)

    def list(
        self,
        page: PageRequest,
        scope: ProposalScope,
        *,
        status: str | None = None,
        call_id: int | None = None,
        order: str = "created",
    ) -> Page[Proposal]:
        stmt = select(Proposal)
        if not scope.everything:
            visible = []
            if scope.organization_id is not None:
                visible.append(t.proposals.c.lead_organization_id == scope.organization_id)
                pp = t.proposal_partners.c
                visible.append(
                    exists().where(pp.proposal_id == t.proposals.c.id, pp.organization_id == scope.organization_id)
                )
            if scope.reviewer_id is not None:
                visible.append(
                    t.proposals.c.id.in_(
                        select(t.review_assignments.c.proposal_id).where(
                            t.review_assignments.c.reviewer_id == scope.reviewer_id
                        )
                    )
                )
            stmt = stmt.where(or_(*visible)) if visible else stmt.where(false())
        if status:
            stmt = stmt.where(t.proposals.c.status == status)
        if call_id is not None:
            stmt = stmt.where(t.proposals.c.call_id == call_id)
        if order != "deadline":
            return self._page(stmt.order_by(t.proposals.c.id.desc()), page)
        # Awaiting a decision first, earliest (most overdue) deadline first. No index serves this order,
        # so sort narrow rows (ids only) and load the page's full rows afterwards.
        pending = case((t.proposals.c.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW]), 0), else_=1)
        ordered = stmt.with_only_columns(t.proposals.c.id).order_by(
            pending, t.proposals.c.decision_deadline.is_(None), t.proposals.c.decision_deadline, t.proposals.c.id
        )
        ids = list(self.session.scalars(ordered.limit(page.limit).offset(page.offset)))
        rows = {p.id: p for p in self.session.scalars(select(Proposal).where(t.proposals.c.id.in_(ids)))} if ids else {}
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        return Page(items=[rows[i] for i in ids], total=total, limit=page.limit, offset=page.offset)

    def self_service_use(
        self, call_id: int, organization_id: int, *, since: datetime, today: date, exclude_id: int
    ) -> SelfServiceUse:
        p, a, pr = t.proposals.c, t.allocations.c, t.projects.c
        mine = (p.call_id == call_id, p.lead_organization_id == organization_id, p.id != exclude_id)
        running = exists().where(pr.proposal_id == p.id, a.project_id == pr.id, a.end_date >= today)
        live = self.session.scalar(
            select(func.count()).where(
                *mine,
                or_(
                    p.status.in_([ProposalStatus.SUBMITTED.value, ProposalStatus.UNDER_REVIEW.value]),
                    and_(p.status == ProposalStatus.ACCEPTED.value, running),
                ),
            )
        )
        auto = self.session.scalar(  # auto-approved: accepted by no one
            select(func.coalesce(func.sum(p.awarded_gpu_hours), 0)).where(
                *mine, p.status == ProposalStatus.ACCEPTED.value, p.decided_by.is_(None), p.decided_at >= since
            )
        )
        return SelfServiceUse(live_proposals=int(live or 0), auto_approved_gpu_hours=int(auto or 0))

    def awaiting_decision(self, page: PageRequest) -> Page[Proposal]:
        """Submitted and under review, earliest (most overdue) deadline first: served by the
        (status, decision_deadline, id) index."""
        stmt = (
            select(Proposal)
            .where(t.proposals.c.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW]))
            .order_by(t.proposals.c.decision_deadline.is_(None), t.proposals.c.decision_deadline, t.proposals.c.id)
        )
        return self._page(stmt, page)


class AssignmentRepository(Repository[ReviewAssignment]):
    entity = ReviewAssignment

    def for_proposal(self, proposal_id: int) -> list[ReviewAssignment]:
        return list(
            self.session.scalars(
                select(ReviewAssignment)
                .where(t.review_assignments.c.proposal_id == proposal_id)
                .order_by(t.review_assignments.c.id)
            )
        )

    def find(self, proposal_id: int, reviewer_id: int) -> ReviewAssignment | None:
        return self.session.scalar(
            select(ReviewAssignment).where(
                t.review_assignments.c.proposal_id == proposal_id, t.review_assignments.c.reviewer_id == reviewer_id
            )
        )

    def for_reviewer(self, reviewer_id: int, page: PageRequest) -> Page[ReviewAssignment]:
        stmt = (
            select(ReviewAssignment)
            .where(t.review_assignments.c.reviewer_id == reviewer_id)
            .order_by(t.review_assignments.c.id)
        )
        return self._page(stmt, page)


class ReviewRepository(Repository[Review]):
    entity = Review

    def for_proposal(self, proposal_id: int) -> list[Review]:
        return list(
            self.session.scalars(select(Review).where(t.reviews.c.proposal_id == proposal_id).order_by(t.reviews.c.id))
        )

    def counts(self, proposal_ids: Collection[int]) -> dict[int, int]:
        """Reviews submitted per proposal (one grouped query)."""
        if not proposal_ids:
            return {}
        stmt = (
            select(t.reviews.c.proposal_id, func.count())
            .where(t.reviews.c.proposal_id.in_(proposal_ids))
            .group_by(t.reviews.c.proposal_id)
        )
        return {pid: int(n) for pid, n in self.session.execute(stmt)}


class ProjectRepository(Repository[Project]):
    entity = Project

    def role(self, project_id: int, user_id: int) -> ProjectRole | None:
        """The user's role in the project, or None (one small query, nothing loaded)."""
        return self.session.scalar(
            select(t.project_members.c.role).where(
                t.project_members.c.project_id == project_id, t.project_members.c.user_id == user_id
            )
        )

    def by_account(self, account: str) -> Project | None:
        return self.session.scalar(select(Project).where(t.projects.c.slurm_account == account))

    def by_proposal(self, proposal_id: int) -> Project | None:
        return self.session.scalar(select(Project).where(t.projects.c.proposal_id == proposal_id))

    def list(self, page: PageRequest, scope: ProjectScope) -> Page[Project]:
        return self._page(in_scope(select(Project).order_by(t.projects.c.id), t.projects.c.id, scope), page)

    def next_id_hint(self) -> int:
        return (self.session.scalar(select(func.max(t.projects.c.id))) or 0) + 1


class AllocationRepository(Repository[Allocation]):
    entity = Allocation

    def all(self) -> builtins.list[Allocation]:
        return list(self.session.scalars(select(Allocation).order_by(t.allocations.c.id)))

    def list(self, page: PageRequest, scope: ProjectScope, *, project_id: int | None = None) -> Page[Allocation]:
        stmt = in_scope(select(Allocation).order_by(t.allocations.c.id), t.allocations.c.project_id, scope)
        if project_id is not None:
            stmt = stmt.where(t.allocations.c.project_id == project_id)
        return self._page(stmt, page)


class AuditRepository(Repository[AuditEvent]):
    entity = AuditEvent

    def list(
        self,
        page: PageRequest,
        *,
        entity_type: str | None = None,
        entity_id: int | None = None,
        actor_id: int | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEvent]:
        stmt = select(AuditEvent).order_by(t.audit_events.c.id.desc())
        for col, value in (
            (t.audit_events.c.entity_type, entity_type),
            (t.audit_events.c.entity_id, entity_id),
            (t.audit_events.c.actor_id, actor_id),
            (t.audit_events.c.action, action),
        ):
            if value is not None:
                stmt = stmt.where(col == value)
        if since is not None:
            stmt = stmt.where(t.audit_events.c.occurred_at >= since)
        if until is not None:
            stmt = stmt.where(t.audit_events.c.occurred_at < until)
        return self._page(stmt, page)


class JobRepository(Repository[Job]):
    entity = Job

    def by_idempotency_key(self, project_id: int, key: str) -> Job | None:
        return self.session.scalar(
            select(Job).where(t.jobs.c.project_id == project_id, t.jobs.c.idempotency_key == key)
        )

    def open_jobs(self, backend: str | None = None) -> builtins.list[Job]:
        """Jobs not yet final (what the reconciler polls), oldest first."""
        stmt = select(Job).where(t.jobs.c.state.not_in(list(TERMINAL))).order_by(t.jobs.c.id)
        if backend is not None:
            stmt = stmt.where(t.jobs.c.backend == backend)
        return list(self.session.scalars(stmt))

    def unsettled(self, backend: str, limit: int = 500) -> builtins.list[Job]:
        """Finished jobs not yet charged in the ledger."""
        return list(
            self.session.scalars(
                select(Job)
                .where(t.jobs.c.backend == backend, t.jobs.c.state.in_(TERMINAL), t.jobs.c.settled_at.is_(None))
                .order_by(t.jobs.c.id)
                .limit(limit)
            )
        )

    def with_entries_or_settled(self) -> builtins.list[Job]:
        has_entries = select(t.ledger_entries.c.job_id).where(t.ledger_entries.c.job_id.is_not(None))
        return list(
            self.session.scalars(select(Job).where(t.jobs.c.settled_at.is_not(None) | t.jobs.c.id.in_(has_entries)))
        )

    def list(
        self,
        page: PageRequest,
        scope: ProjectScope,
        *,
        project_id: int | None = None,
        state: str | None = None,
        submitted_by: int | None = None,
        with_events: bool = True,
    ) -> Page[Job]:
        """Newest first; ``with_events=False`` leaves each job's history unloaded (tables that do not show it)."""
        base = select(Job) if with_events else select(Job).options(noload(relationship_of(Job, "events")))
        stmt = in_scope(base.order_by(t.jobs.c.id.desc()), t.jobs.c.project_id, scope)
        if project_id is not None:
            stmt = stmt.where(t.jobs.c.project_id == project_id)
        if state is not None:
            stmt = stmt.where(t.jobs.c.state == state)
        if submitted_by is not None:
            stmt = stmt.where(t.jobs.c.submitted_by == submitted_by)
        return self._page(stmt, page)

    def rows(self, project_id: int, page: PageRequest) -> Page[JobRow]:
        """A project's jobs for a table, newest first: only the shown columns (no spec, no history)."""
        where = t.jobs.c.project_id == project_id
        stmt = (
            select(
                t.jobs.c.id,
                t.jobs.c.name,
                t.jobs.c.state,
                t.jobs.c.created_at,
                t.jobs.c.started_at,
                t.jobs.c.finished_at,
            )
            .where(where)
            .order_by(t.jobs.c.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        total = self.session.scalar(select(func.count()).select_from(t.jobs).where(where)) or 0
        items = [JobRow(*r) for r in self.session.execute(stmt)]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    def other_organization_ran(self, backend: str, organization_id: int) -> bool:
        """Whether a project led by another organization ever had a job on this backend."""
        others = select(t.projects.c.id).where(t.projects.c.lead_organization_id != organization_id)
        stmt = select(t.jobs.c.id).where(t.jobs.c.backend == backend, t.jobs.c.project_id.in_(others)).limit(1)
        return self.session.scalar(stmt) is not None
