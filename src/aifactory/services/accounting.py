"""The ledger's side of the scheduler, run by the reconciler every few minutes:

- **priorities** (soft enforcement): an allocation whose month's quota is overdrawn runs at the lowest
  priority (the project's Slurm association switched to QoS ``low``; queue order and ``nice`` locally) until
  the next month's quota; the flag is re-evaluated on every pass, so a new month lifts it;
- **limits** (hard enforcement, where the backend can): the project's scheduler account carries a GPU-minute
  limit derived from what the ledger still allows — limit = the scheduler's own usage counter + (granted −
  charged − what the gateway's running jobs have used so far) — so that even ``sbatch`` used directly on the
  cluster cannot overspend;
- **jobs run outside the gateway** under a project's account are charged too (``source='slurm-external'``,
  idempotent by the scheduler's job id); records of unknown accounts or partitions are counted, not charged.

Scheduler I/O happens outside transactions; each step is idempotent, so a pass that fails half-way is simply
repeated by the next one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain.enums import AllocationStatus, Enforcement
from ..domain.jobs.execution import ExternalUsage
from ..domain.jobs.states import JobState
from ..domain.ledger import EntryKind, LedgerEntry, billed_seconds, billing_rate, month_key
from ..domain.projects import Allocation
from .context import found
from .gateway import Gateway
from .ledger import after_charge, enforcement_of, post, project_of, soft_quota
from .ports import AccountingBackend, Clock, PriorityBackend, UnitOfWork, UnitOfWorkFactory

EXTERNAL_SOURCE = "slurm-external"


@dataclass
class AccountingState:
    """What the reconciler remembers between passes (what it last told the scheduler)."""

    interval: timedelta = timedelta(minutes=2)
    last_run: datetime | None = None
    priorities: dict[str, bool] = field(default_factory=dict)
    limits: dict[str, int | None] = field(default_factory=dict)
    external_since: float | None = None  # POSIX; None: the oldest active allocation's start

    def due(self, now: datetime) -> bool:
        return self.last_run is None or now - self.last_run >= self.interval


@dataclass(frozen=True)
class PassReport:
    priorities_changed: dict[str, bool]
    limits_set: dict[str, int | None]
    external_charged: int
    external_skipped: dict[str, int]


def accounting_pass(
    uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, state: AccountingState, *, force: bool = False
) -> PassReport | None:
    now = clock.now()
    if not (force or state.due(now)):
        return None
    state.last_run = now
    charged, skipped = import_external(uow_factory, clock, gw, state)
    changed = sync_priorities(uow_factory, clock, gw, state)
    limits = sync_limits(uow_factory, clock, gw, state)
    return PassReport(changed, limits, charged, skipped)


def _active(uow: UnitOfWork, today: Any) -> list[tuple[Allocation, str]]:
    out = []
    for alloc in uow.allocations.all():
        if alloc.effective_status(today) in (AllocationStatus.ACTIVE, AllocationStatus.SUSPENDED):
            out.append((alloc, project_of(uow, alloc).slurm_account))
    return out


def sync_priorities(
    uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, state: AccountingState
) -> dict[str, bool]:
    """Soft allocations: overdrawn this month → low priority; tell the backend about every change."""
    wanted: dict[str, bool] = {}
    with uow_factory() as uow:
        for alloc, account in _active(uow, clock.now().date()):
            if enforcement_of(uow, alloc) is Enforcement.SOFT:
                alloc.low_priority = soft_quota(uow, clock, alloc).overdrawn
            wanted[account] = wanted.get(account, False) or alloc.low_priority
        uow.commit()
    changed = {a: low for a, low in wanted.items() if state.priorities.get(a, False) != low}
    if isinstance(gw.backend, PriorityBackend):
        for account, low in changed.items():
            gw.backend.set_low_priority(account, low)
            state.priorities[account] = low
    return changed


def sync_limits(
    uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, state: AccountingState
) -> dict[str, int | None]:
    """Hard allocations on a backend that enforces limits: keep each account's GPU-minute limit in step."""
    backend = gw.backend
    if not isinstance(backend, AccountingBackend):
        return {}
    allowed: dict[str, int] = {}
    with uow_factory(write=False) as uow:
        now = clock.now()
        running = _running_use(uow, now)
        for alloc, account in _active(uow, now.date()):
            if enforcement_of(uow, alloc) is Enforcement.HARD and alloc.status is AllocationStatus.ACTIVE:
                left = alloc.granted_seconds - alloc.charged_seconds - running.get(alloc.stored_id, 0)
                allowed[account] = allowed.get(account, 0) + max(0, left)
            else:
                allowed.setdefault(account, 0)  # suspended or expired: nothing more
    done: dict[str, int | None] = {}
    for account, seconds in allowed.items():
        limit = backend.account_gpu_minutes_used(account) + seconds // 60
        if state.limits.get(account) != limit:
            backend.set_budget_limit(account, limit)
            state.limits[account] = done[account] = limit
    return done


def _running_use(uow: UnitOfWork, now: datetime) -> dict[int, int]:
    """GPU-seconds the gateway's running jobs have used so far, per allocation (the scheduler counts them
    already; the ledger charges them only at the end)."""
    out: Counter[int] = Counter()
    for job in uow.jobs.open_jobs():
        if job.state is JobState.RUNNING and job.started_at is not None:
            res = job.spec.get("resources", {})
            gpus = int(res.get("gpus_per_node", 0)) * int(res.get("nodes", 1))
            out[job.allocation_id] += gpus * max(0, int((now - job.started_at).total_seconds()))
    return dict(out)


def import_external(
    uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, state: AccountingState
) -> tuple[int, dict[str, int]]:
    """Charge finished jobs that ran under a project's account without the gateway."""
    backend = gw.backend
    if not isinstance(backend, AccountingBackend):
        return 0, {}
    with uow_factory(write=False) as uow:
        active = _active(uow, clock.now().date())
        accounts = sorted({account for _, account in active})
        if state.external_since is None and active:
            oldest = min(a.start_date for a, _ in active)
            state.external_since = datetime(oldest.year, oldest.month, oldest.day, tzinfo=UTC).timestamp()
    if not accounts:
        return 0, {}
    records = backend.finished_jobs(accounts, state.external_since or clock.now().timestamp())
    ours = f"aif:{gw.site}:"
    skipped: Counter[str] = Counter()
    charged = 0
    with uow_factory() as uow:
        for rec in records:
            if rec.comment.startswith(ours):
                continue  # the gateway's own jobs are charged by their settlement
            reason = _charge_external(uow, clock, gw.site, rec)
            if reason is None:
                charged += 1
            elif reason != "already charged":
                skipped[reason] += 1
        uow.commit()
    ends = [r.end for r in records if r.end is not None]
    if ends:  # next time from the newest end we saw, with a margin for slurmdbd's lag
        state.external_since = max(state.external_since or 0, max(ends) - 3600)
    return charged, dict(skipped)


def _charge_external(uow: UnitOfWork, clock: Clock, site: str, rec: ExternalUsage) -> str | None:
    """One external job as a charge entry; the reason it was not charged, or None."""
    project = uow.projects.by_account(rec.account)
    if project is None:
        return "unknown account"
    resources = {
        a.resource_id: found(uow.resources.get(a.resource_id), "resource", a.resource_id) for a in project.allocations
    }
    alloc = next((a for a in project.allocations if resources[a.resource_id].name == rec.partition), None)
    if alloc is None:
        return "no allocation on that partition"
    if rec.start is None or rec.elapsed_seconds <= 0:
        return "never started"
    if rec.end is not None and rec.end > clock.now().timestamp() + 300:
        return "ends in the future (clock skew)"
    resource = resources[alloc.resource_id]
    nodes = max(rec.nodes, 1)
    rate = billing_rate(resource, gpus=rec.gpus // nodes, cpus=rec.cpus // nodes, memory_mb=rec.memory_mb // nodes)
    end = datetime.fromtimestamp(rec.end or rec.start + rec.elapsed_seconds, UTC)
    entry = LedgerEntry(
        allocation_id=alloc.id,
        project_id=project.id,
        resource_id=alloc.resource_id,
        kind=EntryKind.CHARGE,
        amount=billed_seconds(rate, nodes, rec.elapsed_seconds),
        gpu_seconds=rec.gpus * rec.elapsed_seconds,
        source=EXTERNAL_SOURCE,
        external_id=rec.backend_id,
        usage_start=datetime.fromtimestamp(rec.start, UTC),
        usage_end=end,
        period=month_key(end),
        at=clock.now(),
        reason=f"ran outside the gateway (user {rec.user}, {rec.state.value})",
        key=f"external:{site}:{rec.backend_id}",
    )
    if not post(uow, entry):
        return "already charged"
    after_charge(uow, clock, alloc)
    return None
