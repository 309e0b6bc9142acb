"""Read-only SQL behind the factory's reports (``services.reports``), around the ledger: organizations,
proposals' decisions, first jobs, capacity, an allocation's movements. Delivered usage by dimension is
``report_usage`` (charges apportioned across months). Nothing here writes; every function takes the unit of
work's session (``report_repo`` wraps them as the unit of work's ``reports``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..services.repositories import (
    Capacity,
    DecisionSpan,
    FirstJob,
    Movement,
    OrganizationSummary,
)
from .tables import calls, jobs, ledger_entries, organizations, projects, proposals, resources, usage_imports

le = ledger_entries


def organizations_of_kinds(session: Session, ids: Iterable[int], kinds: Iterable[str]) -> list[OrganizationSummary]:
    """The given organizations that are of one of ``kinds``, by name."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = (
        select(organizations.c.id, organizations.c.name, organizations.c.kind, organizations.c.country)
        .where(organizations.c.id.in_(wanted), organizations.c.kind.in_(list(kinds)))
        .order_by(organizations.c.name)
    )
    return [OrganizationSummary(i, name, str(kind), country) for i, name, kind, country in session.execute(stmt)]


# ------------------------------------------------------------------ durations


def decisions(session: Session) -> list[DecisionSpan]:
    """Every decided proposal: its call's access mode, when it was submitted and decided."""
    stmt = (
        select(calls.c.access_mode, proposals.c.submitted_at, proposals.c.decided_at)
        .select_from(proposals.join(calls, calls.c.id == proposals.c.call_id))
        .where(proposals.c.submitted_at.is_not(None), proposals.c.decided_at.is_not(None))
    )
    return [DecisionSpan(str(m), s, d) for m, s, d in session.execute(stmt)]


def first_jobs(session: Session) -> list[FirstJob]:
    """Every project: its call's access mode, its acceptance, its first job's start (or None)."""
    first = (
        select(jobs.c.project_id, func.min(jobs.c.started_at).label("first"))
        .where(jobs.c.started_at.is_not(None))
        .group_by(jobs.c.project_id)
        .subquery()
    )
    joined = (
        projects.join(proposals, proposals.c.id == projects.c.proposal_id)
        .join(calls, calls.c.id == proposals.c.call_id)
        .outerjoin(first, first.c.project_id == projects.c.id)
    )
    stmt = select(calls.c.access_mode, proposals.c.decided_at, first.c.first).select_from(joined)
    rows = list(session.execute(stmt))
    # SQLite hands back min() of a datetime column as text: read it back through the column's type
    return [FirstJob(str(m), d, _datetime(f)) for m, d, f in rows]


def _datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# ------------------------------------------------------------------ capacity and one allocation


def resources_capacity(session: Session) -> list[Capacity]:
    """Every resource's size: nodes and GPUs per node."""
    stmt = select(
        resources.c.id, resources.c.name, resources.c.site_id, resources.c.nodes, resources.c.gpus_per_node
    ).order_by(resources.c.id)
    return [Capacity(i, name, site, nodes, gpn) for i, name, site, nodes, gpn in session.execute(stmt)]


def allocation_movements(session: Session, allocation_id: int, by: str = "day") -> list[Movement]:
    """The allocation's real entries summed per day ``YYYY-MM-DD`` (or month ``YYYY-MM``) and kind, in
    order: summed in the database, so an allocation with thousands of jobs is a few hundred rows here."""
    if session.get_bind().dialect.name == "postgresql":
        bucket = func.to_char(func.timezone("UTC", le.c.at), "YYYY-MM-DD" if by == "day" else "YYYY-MM")
    else:  # SQLite stores UTC as 'YYYY-MM-DD HH:MM:SS…'
        bucket = func.substr(le.c.at, 1, 10 if by == "day" else 7)
    stmt = (
        select(bucket.label("bucket"), le.c.kind, func.sum(le.c.amount))
        .where(le.c.allocation_id == allocation_id, le.c.scenario.is_(None))
        .group_by(bucket, le.c.kind)
        .order_by(bucket)
    )
    return [Movement(str(b), str(kind), int(amount)) for b, kind, amount in session.execute(stmt)]


# ------------------------------------------------------------------ what-if scenarios


def scenario_exists(session: Session, name: str) -> bool:
    """Whether a usage import or a ledger entry (the report index leads with the scenario) has this name."""
    for stmt in (
        select(usage_imports.c.id).where(usage_imports.c.scenario == name).limit(1),
        select(le.c.id).where(le.c.scenario == name).limit(1),
    ):
        if session.execute(stmt).first() is not None:
            return True
    return False


def scenarios(session: Session) -> list[str]:
    """The usage imports' scenario names, in order."""
    return list(session.scalars(select(usage_imports.c.scenario).distinct().order_by(usage_imports.c.scenario)))
