"""The factory's KPIs and reports, for funders and operators: delivered GPU-hours by dimension, the SMEs and
startups served, time to decision and to first job, utilization, and an allocation's burn-down.

*Delivered* usage is the ledger's ``charge`` entries (their amounts are billing GPU-seconds, reported as
GPU-hours, ÷ 3600): the real ledger, or one what-if scenario when ``scenario`` names it — the two never mix;
a scenario that no import or entry has is NotFound. Months are calendar months (UTC): a charge whose run
spans months counts in each by the seconds of its run in it (``domain.months``); ``start`` and ``end`` are
inclusive months. An organization dimension is the project's **lead** organization.

All reports are for operators (others get Forbidden), except an allocation's burn-down, which the
project's members may see too (anyone else: 404, like the allocation itself).
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..domain.enums import OrgKind
from ..domain.errors import FieldError, Forbidden, InvalidInput, NotFound
from ..domain.ledger import Balance, EntryKind, entry_effect, gpu_hours
from ..domain.months import is_month
from ..domain.reports import Dimension
from ..domain.stored import stored
from .context import Actor
from .ledger import allocation_for
from .ports import UnitOfWork
from .repositories import Delivered, OrganizationSums, Sums, UsageSums

SERVED_KINDS = (OrgKind.SME, OrgKind.STARTUP)
NO_SECTOR = "unspecified"


def require_reports(actor: Actor) -> None:
    if not actor.is_operator:
        raise Forbidden(
            "factory-wide reports are for the factory's operators (a project's members can see "
            "their allocation's burn-down)"
        )


def check_period(start: str | None, end: str | None) -> None:
    """Months as YYYY-MM, the start not after the end; errors name the parameter."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and not is_month(value):
            raise InvalidInput.on(name, f"must be a month as YYYY-MM (0001-01 to 9998-12), not {value!r}")
    if start is not None and end is not None and start > end:
        raise InvalidInput.on("end", f"must not be before start ({start})")


def check_scenario(uow: UnitOfWork, scenario: str | None) -> str | None:
    """The scenario to report on (None: real usage); NotFound, naming it, if nothing has that name."""
    if not scenario:
        return None
    if not uow.reports.scenario_exists(scenario):
        known = ", ".join(uow.reports.scenarios()) or "none imported"
        message = f"no what-if scenario named {scenario!r} (known: {known})"
        raise NotFound(f"scenario: {message}", [FieldError("scenario", message)])
    return scenario


def _hours(seconds: int) -> float:
    return round(gpu_hours(seconds), 6)


# ------------------------------------------------------------------ GPU-hours by dimension


@dataclass(frozen=True)
class UsageRow:
    key: str  # the group: a kind, sector, country, access mode, month, or a resource/project id
    label: str  # for people: the resource's or project's name, else the key
    gpu_hours: float
    entries: int  # charge entries with usage in the group (a job's run spanning months: in each of them)


@dataclass(frozen=True)
class UsageReport:
    by: Dimension
    start: str | None
    end: str | None
    scenario: str | None
    rows: list[UsageRow]
    total_gpu_hours: float  # every delivered hour once (for ``sector``: at most the rows' sum)
    total_entries: int


def gpu_hours_by(
    uow: UnitOfWork,
    actor: Actor,
    dimension: str,
    *,
    start: str | None = None,
    end: str | None = None,
    scenario: str | None = None,
) -> UsageReport:
    """Delivered GPU-hours grouped by ``dimension`` (org_kind, sector, country, access_mode, resource, month,
    project), biggest first except months (in order). Usage without a project (imports) groups under
    ``none``. ``sector``: an organization lists several sectors, and each of its entries counts in full
    under every one of them (so the sectors' rows add up to more than the total); no sector: ``unspecified``."""
    require_reports(actor)
    try:
        dim = Dimension(dimension)
    except ValueError:
        raise InvalidInput.on("by", f"must be one of {', '.join(d.value for d in Dimension)}") from None
    check_period(start, end)
    scenario = check_scenario(uow, scenario)
    delivered = Delivered(start, end, scenario)
    if dim is Dimension.SECTOR:
        per_org = uow.reports.usage_by_lead_organization(delivered)
        once = [o.sums for o in per_org]
        usage = UsageSums(_by_sector(per_org), sum(s.seconds for s in once), sum(s.entries for s in once))
    else:
        usage = uow.reports.usage(dim, delivered)
    rows = [UsageRow(s.key or "none", s.label or s.key or "none", _hours(s.seconds), s.entries) for s in usage.rows]
    if dim is not Dimension.MONTH:
        rows.sort(key=lambda r: (-r.gpu_hours, r.key))
    return UsageReport(dim, start, end, scenario, rows, _hours(usage.seconds), usage.entries)


def _by_sector(per_org: list[OrganizationSums]) -> list[Sums]:
    seconds: dict[str, int] = defaultdict(int)
    entries: dict[str, int] = defaultdict(int)
    for org in per_org:
        s = org.sums
        for sector in sorted(set(org.sectors)) or [NO_SECTOR if s.key is not None else "none"]:
            seconds[sector] += s.seconds
            entries[sector] += s.entries
    return [Sums(k, k, seconds[k], entries[k]) for k in sorted(seconds)]


# ------------------------------------------------------------------ SMEs and startups served


@dataclass(frozen=True)
class ServedOrganization:
    id: int
    name: str
    kind: str
    country: str


@dataclass(frozen=True)
class ServedReport:
    start: str | None
    end: str | None
    by_kind: dict[str, int]  # sme, startup -> distinct organizations
    total: int
    organizations: list[ServedOrganization]


def smes_served(
    uow: UnitOfWork, actor: Actor, start: str | None = None, end: str | None = None, *, scenario: str | None = None
) -> ServedReport:
    """Distinct SMEs and startups with delivered usage in the period: the lead or a partner organization of
    a project charged in it (each organization once, however many projects)."""
    require_reports(actor)
    check_period(start, end)
    used = uow.reports.projects_with_usage(Delivered(start, end, check_scenario(uow, scenario)))
    ids = {org for p in used for org in (p.lead_organization_id, *p.organization_ids)}
    found = uow.reports.organizations_of_kinds(ids, SERVED_KINDS)
    orgs = [ServedOrganization(o.id, o.name, o.kind, o.country) for o in found]
    by_kind = {k.value: sum(o.kind == k.value for o in orgs) for k in SERVED_KINDS}
    return ServedReport(start, end, by_kind, len(orgs), orgs)


# ------------------------------------------------------------------ durations


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile with linear interpolation between ranks (p=50: the median); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class DurationRow:
    access_mode: str  # or "all"
    count: int  # durations measured
    waiting: int  # not measurable yet (time to first job: projects without a started job)
    median_days: float | None
    p90_days: float | None


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def _duration_rows(samples: list[tuple[str, float | None]]) -> list[DurationRow]:
    groups: dict[str, list[float | None]] = defaultdict(list)
    for mode, days in samples:
        groups[mode].append(days)
        groups["all"].append(days)
    rows = []
    for mode in [*sorted(k for k in groups if k != "all"), "all"]:
        done = [d for d in groups.get(mode, []) if d is not None]
        med, p90 = percentile(done, 50), percentile(done, 90)
        rows.append(
            DurationRow(
                mode,
                len(done),
                len(groups.get(mode, [])) - len(done),
                None if med is None else round(med, 4),
                None if p90 is None else round(p90, 4),
            )
        )
    return rows


def time_to_decision(uow: UnitOfWork, actor: Actor) -> list[DurationRow]:
    """Days from submission to decision (accepted or rejected) by access mode, then all together."""
    require_reports(actor)
    return _duration_rows([(d.access_mode, _days(d.submitted_at, d.decided_at)) for d in uow.reports.decisions()])


def time_to_first_job(uow: UnitOfWork, actor: Actor) -> list[DurationRow]:
    """Days from acceptance (the proposal's decision) to the project's first job start, by access mode;
    projects without a started job are counted as ``waiting``."""
    require_reports(actor)
    return _duration_rows(
        [
            (
                f.access_mode,
                None if f.accepted_at is None or f.first_start is None else _days(f.accepted_at, f.first_start),
            )
            for f in uow.reports.first_jobs()
        ]
    )


# ------------------------------------------------------------------ utilization


@dataclass(frozen=True)
class UtilizationRow:
    resource_id: int
    resource: str
    site_id: int
    gpus: int
    capacity_gpu_hours: float
    gpu_hours: float
    utilization: float  # delivered ÷ capacity (billing hours: may exceed 1 for CPU/memory-heavy billing)


@dataclass(frozen=True)
class UtilizationReport:
    start: str
    end: str
    hours: int  # hours in the period (whole months)
    rows: list[UtilizationRow]


def hours_in(start: str, end: str) -> int:
    total, (y, m) = 0, (int(start[:4]), int(start[5:]))
    while (y, m) <= (int(end[:4]), int(end[5:])):
        total += calendar.monthrange(y, m)[1] * 24
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return total


def utilization(
    uow: UnitOfWork, actor: Actor, start: str, end: str, *, scenario: str | None = None
) -> UtilizationReport:
    """Per resource: delivered GPU-hours ÷ capacity (nodes × GPUs per node × hours of the months)."""
    require_reports(actor)
    for name, value in (("start", start), ("end", end)):
        if not value:
            raise InvalidInput.on(name, "utilization needs a period: give start and end as YYYY-MM")
    check_period(start, end)
    by_resource = uow.reports.usage(Dimension.RESOURCE, Delivered(start, end, check_scenario(uow, scenario)))
    used = {s.key: s.seconds for s in by_resource.rows}
    hours = hours_in(start, end)
    rows = []
    for c in uow.reports.capacities():
        gpus = c.nodes * c.gpus_per_node
        capacity, delivered = gpus * hours, _hours(used.get(str(c.resource_id), 0))
        rows.append(
            UtilizationRow(
                c.resource_id,
                c.name,
                c.site_id,
                gpus,
                float(capacity),
                delivered,
                delivered / capacity if capacity else 0.0,
            )
        )
    return UtilizationReport(start, end, hours, rows)


# ------------------------------------------------------------------ burn-down


@dataclass(frozen=True)
class BurnPoint:
    at: str  # YYYY-MM-DD (by day) or YYYY-MM (by month)
    granted_gpu_hours: float  # cumulative grants and adjustments up to and including this point
    charged_gpu_hours: float  # cumulative charges
    reserved_gpu_hours: float = 0.0  # held by open jobs at the end of this point


@dataclass(frozen=True)
class BurnDown:
    allocation_id: int
    project_id: int
    by: str
    granted_gpu_hours: float
    charged_gpu_hours: float
    reserved_gpu_hours: float  # held now by open jobs
    available_gpu_hours: float
    points: list[BurnPoint]


def burn_down(uow: UnitOfWork, actor: Actor, allocation_id: int, *, by: str = "day") -> BurnDown:
    """Cumulative granted vs charged GPU-hours of one allocation, and what open jobs held, per day (or month)
    an entry was posted. Its project's members and operators; anyone else: 404."""
    if by not in ("day", "month"):
        raise InvalidInput.on("by", "must be day or month")
    alloc = allocation_for(uow, actor, allocation_id)
    running = Balance(0, 0, 0)
    points: dict[str, Balance] = {}
    for m in uow.reports.allocation_movements(allocation_id, by):
        running = running + entry_effect(EntryKind(m.kind), m.amount)
        points[m.bucket] = running
    b = alloc.balance
    return BurnDown(
        alloc.stored_id,
        stored(alloc.project_id, "the allocation's project"),
        by,
        _hours(b.granted),
        _hours(b.charged),
        _hours(b.reserved),
        _hours(b.available),
        [BurnPoint(k, _hours(v.granted), _hours(v.charged), _hours(v.reserved)) for k, v in points.items()],
    )
