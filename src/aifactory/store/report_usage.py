"""Delivered usage for the reports, each charge apportioned across the calendar months it ran in.

A charge is one ledger entry, posted when the job is settled (or the trace record imported), with its run
(``usage_start``–``usage_end``) and ``period``, the month the run ended. Most runs lie within one month: those
entries count whole in their period, summed by the database (the report index ``(scenario, kind, period)``
narrows the scan). An entry whose run began before its period's first instant spans months: the same scan
hands those few back (a filtered JSON aggregate), and here each one's amount is taken from its group and
split by ``domain.months.apportion`` (by the run's seconds in each calendar month, UTC); only the parts in
the report's months count. An entry without a start counts whole in its period.

Per group a report gets billing GPU-seconds and entries: an entry counts once in every group it has usage in
(for months: in each month of its run; for projects, resources and organizations: once), and the totals
count each entry once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, cast, func, or_, select
from sqlalchemy.orm import Session

from ..domain.ledger import EntryKind
from ..domain.months import apportion, month_start, next_month
from ..services.repositories import Delivered, OrganizationSums, ProjectOrganizations, Sums, UsageSums
from .tables import calls, ledger_entries, organizations, projects, proposals, resources

le = ledger_entries
Key = str | int | None
GROUPS = {"month": le.c.period, "project": le.c.project_id, "resource": le.c.resource_id}


@dataclass(frozen=True, slots=True)
class Part:
    """A spanning entry's usage in one month of the report."""

    entry: int
    project: int | None
    resource: int | None
    month: str
    seconds: int

    def key(self, group: str) -> Key:
        return self.month if group == "month" else self.project if group == "project" else self.resource


def _period_start(dialect: str) -> ColumnElement[Any]:
    """The first instant of the entry's period, comparable with ``usage_start`` in the database."""
    if dialect == "postgresql":
        return cast(le.c.period + "-01 00:00:00+00", DateTime(timezone=True))
    # SQLite keeps UTC as text 'YYYY-MM-DD HH:MM:SS.ffffff': it sorts before 'YYYY-MM' exactly when it falls
    # in an earlier month (a string that extends an equal prefix sorts after it)
    return le.c.period


def _spanning_rows(dialect: str, spans: ColumnElement[bool]) -> ColumnElement[Any]:
    """The aggregate that collects the spanning entries of a group as a JSON list of
    ``[id, project, resource, period, amount, usage_start, usage_end]`` (so one scan serves both)."""
    cols = (le.c.id, le.c.project_id, le.c.resource_id, le.c.period, le.c.amount, le.c.usage_start, le.c.usage_end)
    if dialect == "postgresql":
        return func.json_agg(func.json_build_array(*cols)).filter(spans)
    return func.json_group_array(func.json_array(*cols)).filter(spans)


def _moment(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def charges(d: Delivered) -> list[ColumnElement[bool]]:
    """Charges of the real ledger, or of one what-if scenario."""
    return [
        le.c.scenario.is_(None) if d.scenario is None else le.c.scenario == d.scenario,
        le.c.kind == EntryKind.CHARGE,
    ]


@dataclass(frozen=True, slots=True)
class Spanning:
    """An entry whose run began before its period: its group's key, amount, and its parts in the report."""

    key: Key
    amount: int
    parts: list[Part]


@dataclass(frozen=True)
class DeliveredUsage:
    """One report's delivered usage (see the module), read in one scan of the ledger per grouping: the
    database sums every entry per group and hands back the spanning ones, whose amounts are then moved from
    their group to their parts' groups here."""

    session: Session
    delivered: Delivered

    def _query(self, column: ColumnElement[Any]) -> Select[Any]:
        dialect = self.session.get_bind().dialect.name
        d = self.delivered
        where = charges(d)
        if d.start is not None:
            where.append(le.c.period >= d.start)
        if d.end is not None:  # ended in the months, or begun before their end
            where.append(or_(le.c.period <= d.end, le.c.usage_start < next_month(month_start(d.end))))
        spans = le.c.usage_start < _period_start(dialect)  # NULL (no start) is no span
        return (
            select(column, func.sum(le.c.amount), func.count(), _spanning_rows(dialect, spans))
            .where(*where)
            .group_by(column)
        )

    def _spanning(self, row: list[Any], group: str) -> Spanning | None:
        """A spanning entry's key in ``group`` and its parts in the report's months (None without an end:
        it counts whole in its period)."""
        entry, project, resource, period, amount, begin, end = row
        if end is None:
            return None
        low, high = self.delivered.start or "0000-00", self.delivered.end or "9999-99"
        parts = [
            Part(entry, project, resource, month, share)
            for month, share in apportion(amount, _moment(begin), _moment(end))
            if low <= month <= high
        ]
        key = period if group == "month" else project if group == "project" else resource
        return Spanning(key, amount, parts)

    def by(self, group: str) -> Grouped:
        """Seconds and entries per month, project or resource id (``Sums.key``: the key as text), and the
        total."""
        seconds: dict[Key, int] = defaultdict(int)
        entries: dict[Key, int] = defaultdict(int)
        rows: list[list[Any]] = []
        for k, s, n, found in self.session.execute(self._query(GROUPS[group])):
            seconds[k] += int(s or 0)
            entries[k] += int(n or 0)
            if found:
                rows.extend(json.loads(found) if isinstance(found, str) else found)
        parted: dict[Key, set[int]] = defaultdict(set)
        for span in filter(None, (self._spanning(r, group) for r in rows)):
            seconds[span.key] -= span.amount
            entries[span.key] -= 1
            for p in span.parts:
                seconds[p.key(group)] += p.seconds
                parted[p.key(group)].add(p.entry)
        keys = [k for k in seconds if entries[k] or parted[k]]
        whole = sum(entries.values())
        out = {k: Sums(None if k is None else str(k), None, seconds[k], entries[k] + len(parted[k])) for k in keys}
        total = Sums(None, None, sum(seconds.values()), whole + len(set().union(*parted.values())))
        return Grouped(out, total)


@dataclass(frozen=True)
class Grouped:
    rows: dict[Key, Sums]
    total: Sums  # every entry once


# ------------------------------------------------------------------ by dimension


def _usage(grouped: Grouped, labels: dict[Key, str | None] | None = None) -> UsageSums:
    rows = [
        Sums(s.key, (labels or {}).get(k, s.key), s.seconds, s.entries)
        for k, s in sorted(grouped.rows.items(), key=lambda kv: (kv[0] is None, "" if kv[0] is None else kv[0]))
    ]
    return UsageSums(rows, grouped.total.seconds, grouped.total.entries)


def by_month(session: Session, usage: DeliveredUsage) -> UsageSums:
    return _usage(usage.by("month"))


def by_resource(session: Session, usage: DeliveredUsage) -> UsageSums:
    names: dict[Key, str | None] = {k: v for k, v in session.execute(select(resources.c.id, resources.c.name))}
    return _usage(usage.by("resource"), names)


def by_project(session: Session, usage: DeliveredUsage) -> UsageSums:
    names: dict[Key, str | None] = {k: v for k, v in session.execute(select(projects.c.id, projects.c.name))}
    return _usage(usage.by("project"), names)


def _regroup(per_project: Grouped, key_of: dict[Key, Any]) -> UsageSums:
    """Per-project sums grouped by a key of the project (a project without one, or no project: None)."""
    seconds: dict[str | None, int] = defaultdict(int)
    entries: dict[str | None, int] = defaultdict(int)
    for project, s in per_project.rows.items():
        value = key_of.get(project)
        k = None if value is None else str(value)
        seconds[k] += s.seconds
        entries[k] += s.entries
    rows = [Sums(k, k, seconds[k], entries[k]) for k in sorted(seconds, key=lambda k: (k is None, k or ""))]
    return UsageSums(rows, per_project.total.seconds, per_project.total.entries)


def by_lead_org_column(session: Session, usage: DeliveredUsage, column_name: str) -> UsageSums:
    """Usage by a column of the project's lead organization (``kind``, ``country``)."""
    col = organizations.c[column_name]
    stmt = select(projects.c.id, col).select_from(
        projects.outerjoin(organizations, organizations.c.id == projects.c.lead_organization_id)
    )
    return _regroup(usage.by("project"), {k: v for k, v in session.execute(stmt)})


def by_access_mode(session: Session, usage: DeliveredUsage) -> UsageSums:
    """Usage by the access mode of the call the project's proposal answered."""
    stmt = select(projects.c.id, calls.c.access_mode).select_from(
        projects.outerjoin(proposals, proposals.c.id == projects.c.proposal_id).outerjoin(
            calls, calls.c.id == proposals.c.call_id
        )
    )
    return _regroup(usage.by("project"), {k: v for k, v in session.execute(stmt)})


def by_lead_org_sectors(session: Session, usage: DeliveredUsage) -> list[OrganizationSums]:
    """Usage by lead organization with that organization's sectors (a JSON list, expanded by the caller)."""
    stmt = select(projects.c.id, organizations.c.id, organizations.c.sectors).select_from(
        projects.outerjoin(organizations, organizations.c.id == projects.c.lead_organization_id)
    )
    lead = {pid: (oid, sectors) for pid, oid, sectors in session.execute(stmt)}
    per_org = _regroup(usage.by("project"), {p: org for p, (org, _) in lead.items()})
    sectors = {str(org): list(s or []) for org, s in lead.values() if org is not None}
    return [
        OrganizationSums(sectors.get(r.key or "", []), Sums(r.key, None, r.seconds, r.entries)) for r in per_org.rows
    ]


def projects_with_usage(session: Session, usage: DeliveredUsage) -> list[ProjectOrganizations]:
    """(project id, lead organization id, organization ids) of every project with delivered usage."""
    used = [k for k in usage.by("project").rows if k is not None]
    stmt = select(projects.c.id, projects.c.lead_organization_id, projects.c.organization_ids).order_by(projects.c.id)
    wanted = set(used)
    return [
        ProjectOrganizations(pid, lead, list(orgs or [])) for pid, lead, orgs in session.execute(stmt) if pid in wanted
    ]
