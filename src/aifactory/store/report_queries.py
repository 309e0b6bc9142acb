"""Read-only SQL behind the factory's reports (``services.reports``): aggregates over the ledger and the
tables around it. Nothing here writes; every function takes the unit of work's session (``report_repo``
wraps them as the unit of work's ``reports``).

"Delivered" usage is the ledger's ``charge`` entries: real ones (``scenario IS NULL``) or those of one
what-if scenario, never both. Amounts are billing GPU-seconds. The ledger is aggregated first (its report
index ``(scenario, kind, period)`` narrows the scan), and only the small aggregate is joined to projects,
organizations, proposals and calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, func, select
from sqlalchemy.orm import Session

from ..domain.ledger import EntryKind
from ..services.repositories import (
    Capacity,
    DecisionSpan,
    Delivered,
    FirstJob,
    Movement,
    OrganizationSummary,
    OrganizationSums,
    ProjectOrganizations,
    Sums,
)
from .tables import calls, jobs, ledger_entries, organizations, projects, proposals, resources

le = ledger_entries


def delivered(d: Delivered) -> list[ColumnElement[bool]]:
    """The WHERE clause of delivered usage: charges, of the real ledger or of one scenario, in a period."""
    where = [
        le.c.scenario.is_(None) if d.scenario is None else le.c.scenario == d.scenario,
        le.c.kind == EntryKind.CHARGE,
    ]
    if d.start is not None:
        where.append(le.c.period >= d.start)
    if d.end is not None:
        where.append(le.c.period <= d.end)
    return where


def _usage_by(column: ColumnElement[Any], where: list[ColumnElement[bool]]) -> Subquery:
    """The ledger aggregated by one of its own columns (a subquery: ``k``, ``seconds``, ``entries``)."""
    return (
        select(column.label("k"), func.sum(le.c.amount).label("seconds"), func.count().label("entries"))
        .where(*where)
        .group_by(column)
        .subquery()
    )


def _sums(session: Session, stmt: Select[Any, Any, Any, Any]) -> list[Sums]:
    return [
        Sums(None if k is None else str(k), None if label is None else str(label), int(s or 0), int(n or 0))
        for k, label, s, n in session.execute(stmt)
    ]


def by_month(session: Session, where: list[ColumnElement[bool]]) -> list[Sums]:
    stmt = (
        select(le.c.period, le.c.period, func.sum(le.c.amount), func.count())
        .where(*where)
        .group_by(le.c.period)
        .order_by(le.c.period)
    )
    return _sums(session, stmt)


def by_resource(session: Session, where: list[ColumnElement[bool]]) -> list[Sums]:
    u = _usage_by(le.c.resource_id, where)
    stmt = (
        select(u.c.k, resources.c.name, u.c.seconds, u.c.entries)
        .select_from(u.outerjoin(resources, resources.c.id == u.c.k))
        .order_by(u.c.k)
    )
    return _sums(session, stmt)


def by_project(session: Session, where: list[ColumnElement[bool]]) -> list[Sums]:
    u = _usage_by(le.c.project_id, where)
    stmt = (
        select(u.c.k, projects.c.name, u.c.seconds, u.c.entries)
        .select_from(u.outerjoin(projects, projects.c.id == u.c.k))
        .order_by(u.c.k)
    )
    return _sums(session, stmt)


def by_lead_org_column(session: Session, where: list[ColumnElement[bool]], column_name: str) -> list[Sums]:
    """Usage by a column of the project's lead organization (``kind``, ``country``)."""
    u = _usage_by(le.c.project_id, where)
    col = organizations.c[column_name]
    joined = u.outerjoin(projects, projects.c.id == u.c.k).outerjoin(
        organizations, organizations.c.id == projects.c.lead_organization_id
    )
    stmt = (
        select(col, col, func.sum(u.c.seconds), func.sum(u.c.entries)).select_from(joined).group_by(col).order_by(col)
    )
    return _sums(session, stmt)


def by_access_mode(session: Session, where: list[ColumnElement[bool]]) -> list[Sums]:
    """Usage by the access mode of the call the project's proposal answered."""
    u = _usage_by(le.c.project_id, where)
    col = calls.c.access_mode
    joined = (
        u.outerjoin(projects, projects.c.id == u.c.k)
        .outerjoin(proposals, proposals.c.id == projects.c.proposal_id)
        .outerjoin(calls, calls.c.id == proposals.c.call_id)
    )
    stmt = (
        select(col, col, func.sum(u.c.seconds), func.sum(u.c.entries)).select_from(joined).group_by(col).order_by(col)
    )
    return _sums(session, stmt)


def by_lead_org_sectors(session: Session, where: list[ColumnElement[bool]]) -> list[OrganizationSums]:
    """Usage by lead organization with that organization's sectors (a JSON list, expanded by the caller)."""
    u = _usage_by(le.c.project_id, where)
    lead = projects.c.lead_organization_id
    per_org = (
        select(lead.label("org"), func.sum(u.c.seconds).label("seconds"), func.sum(u.c.entries).label("entries"))
        .select_from(u.outerjoin(projects, projects.c.id == u.c.k))
        .group_by(lead)
        .subquery()
    )
    stmt = select(per_org.c.org, organizations.c.sectors, per_org.c.seconds, per_org.c.entries).select_from(
        per_org.outerjoin(organizations, organizations.c.id == per_org.c.org)
    )
    return [
        OrganizationSums(list(sectors or []), Sums(None if oid is None else str(oid), None, int(s or 0), int(n or 0)))
        for oid, sectors, s, n in session.execute(stmt)
    ]


# ------------------------------------------------------------------ organizations served


def projects_with_usage(session: Session, where: list[ColumnElement[bool]]) -> list[ProjectOrganizations]:
    """(project id, lead organization id, organization ids) of every project with delivered usage."""
    used = select(le.c.project_id).where(*where, le.c.project_id.is_not(None)).distinct().subquery()
    stmt = (
        select(projects.c.id, projects.c.lead_organization_id, projects.c.organization_ids)
        .where(projects.c.id.in_(select(used.c.project_id)))
        .order_by(projects.c.id)
    )
    return [ProjectOrganizations(pid, lead, list(orgs or [])) for pid, lead, orgs in session.execute(stmt)]


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
