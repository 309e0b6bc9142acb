"""The ledger's side of the scheduler, run by the reconciler every few minutes:

- **accounts** (every active allocation's project): the scheduler account exists with its limit from the
  moment a proposal is accepted, not from the first job: each reconciler cycle looks for allocations it has
  not seen yet (an acceptance kicks the reconciler), provisions their project's account and sets its limit;
  the full pass does the same for every account;
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
repeated by the next one. One account's failure never stops the others: each is tried on its own, its failure
logged and collected in the pass's report, and it is tried again with backoff (``domain.jobs.retry``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ..domain.enums import AllocationStatus, Enforcement
from ..domain.jobs.execution import ExternalUsage
from ..domain.jobs.retry import retry_delay
from ..domain.jobs.states import JobState
from ..domain.ledger import EntryKind, LedgerEntry, billed_seconds, billing_rate, month_key
from ..domain.projects import Allocation
from .context import found
from .gateway import Gateway
from .ledger import after_charge, enforcement_of, post, project_of, soft_quota
from .ports import AccountingBackend, Clock, PriorityBackend, UnitOfWork, UnitOfWorkFactory

EXTERNAL_SOURCE = "slurm-external"
log = logging.getLogger("aifactory.accounting")
T = TypeVar("T")


@dataclass(frozen=True)
class _Failure:
    attempts: int
    retry_at: datetime


@dataclass
class AccountingState:
    """What the reconciler remembers between passes (what it last told the scheduler)."""

    interval: timedelta = timedelta(minutes=2)
    last_run: datetime | None = None
    priorities: dict[str, bool] = field(default_factory=dict)
    limits: dict[str, int | None] = field(default_factory=dict)
    external_since: float | None = None  # POSIX; None: the oldest active allocation's start
    converged: set[int] = field(default_factory=set)  # allocations whose account has been set up in this process
    failures: dict[str, _Failure] = field(default_factory=dict)  # accounts waiting to be tried again

    def due(self, now: datetime) -> bool:
        return self.last_run is None or now - self.last_run >= self.interval

    def may_try(self, account: str, now: datetime) -> bool:
        failure = self.failures.get(account)
        return failure is None or failure.retry_at <= now

    def failed(self, account: str, now: datetime, exc: Exception) -> str:
        """Note one account's failure (tried again after a backoff); what it was, for the report."""
        attempts = self.failures[account].attempts + 1 if account in self.failures else 1
        self.failures[account] = _Failure(attempts, now + retry_delay(attempts))
        what = f"{type(exc).__name__}: {exc}"
        log.warning("account %s: %s (attempt %d; tried again in %s)", account, what, attempts, retry_delay(attempts))
        return what


@dataclass(frozen=True)
class PassReport:
    priorities_changed: dict[str, bool]
    limits_set: dict[str, int | None]
    external_charged: int
    external_skipped: dict[str, int]
    failures: dict[str, str] = field(default_factory=dict)  # account (or step) -> what went wrong


def accounting_pass(
    uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, state: AccountingState, *, force: bool = False
) -> PassReport | None:
    """The full pass when due (or forced); otherwise only the accounts of allocations not seen yet (None when
    there are none). Each step runs even when another failed."""
    now = clock.now()
    if not (force or state.due(now)):
        new_limits, new_failures = converge_accounts(uow_factory, clock, gw, state, only_new=True)
        return PassReport({}, new_limits, 0, {}, new_failures) if new_limits or new_failures else None
    state.last_run = now
    failures: dict[str, str] = {}
    external = _guarded("outside jobs", failures, lambda: import_external(uow_factory, clock, gw, state))
    charged, skipped = external if external is not None else (0, {})
    changed = _guarded("priorities", failures, lambda: sync_priorities(uow_factory, clock, gw, state, failures))
    limits = _guarded("limits", failures, lambda: sync_limits(uow_factory, clock, gw, state, failures))
    return PassReport(changed or {}, limits or {}, charged, skipped, failures)


def _guarded(step: str, failures: dict[str, str], run: Callable[[], T]) -> T | None:
    """``run()``, or None when it failed (noted in ``failures`` under the step's name, and logged)."""
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - one step's failure never stops the others; the log says why
        failures[step] = f"{type(exc).__name__}: {exc}"
        log.warning("accounting step %r failed: %s", step, failures[step])
        return None


def _active(uow: UnitOfWork, today: Any) -> list[tuple[Allocation, str]]:
    out = []
    for alloc in uow.allocations.all():
        if _live(alloc, today):
            out.append((alloc, project_of(uow, alloc).slurm_account))
    return out


def _live(alloc: Allocation, today: Any) -> bool:
    return alloc.effective_status(today) in (AllocationStatus.ACTIVE, AllocationStatus.SUSPENDED)


def sync_priorities(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    gw: Gateway,
    state: AccountingState,
    failures: dict[str, str] | None = None,
) -> dict[str, bool]:
    """Soft allocations: overdrawn this month → low priority; tell the backend about every change (each account
    on its own: a failure is noted in ``failures`` and told again next pass)."""
    failures = {} if failures is None else failures
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
            try:
                gw.backend.set_low_priority(account, low)
            except Exception as exc:  # noqa: BLE001 - the other accounts go on; this one is told next pass
                failures[account] = state.failed(account, clock.now(), exc)
                continue
            state.priorities[account] = low
    return changed


@dataclass
class _Target:
    """What one account should look like in the scheduler."""

    allowed: int | None = 0  # billing seconds the ledger still allows; None: no limit (soft enforcement)
    allocations: list[int] = field(default_factory=list)


def _targets(uow: UnitOfWork, now: datetime) -> dict[str, _Target]:
    """Per account of a live allocation: hard and active → what is left (granted − charged − what the gateway's
    running jobs used so far); soft and active → no limit (overdrawn projects run at low priority instead);
    suspended or expired → nothing more."""
    running = _running_use(uow, now)
    targets: dict[str, _Target] = {}
    for alloc, account in _active(uow, now.date()):
        target = targets.setdefault(account, _Target())
        target.allocations.append(alloc.stored_id)
        if alloc.status is not AllocationStatus.ACTIVE or target.allowed is None:
            continue
        if enforcement_of(uow, alloc) is Enforcement.SOFT:
            target.allowed = None
        else:
            left = alloc.granted_seconds - alloc.charged_seconds - running.get(alloc.stored_id, 0)
            target.allowed += max(0, left)
    return targets


def sync_limits(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    gw: Gateway,
    state: AccountingState,
    failures: dict[str, str] | None = None,
) -> dict[str, int | None]:
    """Every live allocation's account: provisioned, and its GPU-minute limit in step with the ledger."""
    limits, failed = converge_accounts(uow_factory, clock, gw, state, only_new=False)
    if failures is not None:
        failures.update(failed)
    return limits


def converge_accounts(
    uow_factory: UnitOfWorkFactory, clock: Clock, gw: Gateway, state: AccountingState, *, only_new: bool
) -> tuple[dict[str, int | None], dict[str, str]]:
    """Provision each account and set its limit, each account on its own: the limits set, and the failures
    (account -> what went wrong). ``only_new``: only accounts with an allocation not seen in this process."""
    now = clock.now()
    with uow_factory(write=False) as uow:
        fresh = [a for a in uow.allocations.all() if _live(a, now.date()) and a.stored_id not in state.converged]
        if only_new and not fresh:
            return {}, {}
        targets = _targets(uow, now)
    limits: dict[str, int | None] = {}
    failures: dict[str, str] = {}
    for account, target in targets.items():
        if (only_new and set(target.allocations) <= state.converged) or not state.may_try(account, now):
            continue
        try:
            if _converge(gw, state, account, target.allowed):
                limits[account] = state.limits[account]
        except Exception as exc:  # noqa: BLE001 - one account's failure never stops the others
            failures[account] = state.failed(account, now, exc)
            continue
        state.failures.pop(account, None)
        state.converged.update(target.allocations)
    return limits, failures


def _converge(gw: Gateway, state: AccountingState, account: str, allowed: int | None) -> bool:
    """One account: provisioned (once per process), its limit = the scheduler's usage counter + what the ledger
    allows (None: no limit), told only when it changed (then True, and ``state.limits`` holds it)."""
    gw.provision_account(account)
    backend = gw.backend
    if not isinstance(backend, AccountingBackend):
        return False
    limit = None if allowed is None else backend.account_gpu_minutes_used(account) + allowed // 60
    if account in state.limits and state.limits[account] == limit:
        return False
    backend.set_budget_limit(account, limit)
    state.limits[account] = limit
    return True


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
