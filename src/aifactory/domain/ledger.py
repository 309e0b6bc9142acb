"""The usage ledger's rules: entry kinds, billing, balances derived from entries, settlement, soft quotas.

Units are integer **billing GPU-seconds**: one GPU held for one second on a resource whose GPU weight is 1.
Like Slurm's ``TRESBillingWeights`` with ``PriorityFlags=MAX_TRES``, a node-second is billed at the largest
of its weighted resources (GPUs × GPU weight, CPUs × CPU weight, memory GB × memory weight), so a CPU-only or
memory-heavy job pays for the share of the node it blocks. The ledger is append-only; balances are sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from .errors import InvalidInput
from .sites import Resource


class EntryKind(StrEnum):
    GRANT = "grant"  # the allocation's award (once)
    RESERVE = "reserve"  # a job's worst case, held while it is open
    CHARGE = "charge"  # measured usage (a job's, or one that ran outside the gateway)
    RELEASE = "release"  # a job's reservation given back when it is settled (always the full reservation)
    ADJUST = "adjust"  # a top-up (+) or correction (-) by an operator, with a reason


@dataclass(eq=False, kw_only=True)
class LedgerEntry:
    allocation_id: int | None  # None only for what-if (scenario) usage imported from traces
    project_id: int | None
    resource_id: int | None
    kind: EntryKind
    amount: int  # billing GPU-seconds; positive, except adjustments that take away
    gpu_seconds: int = 0  # raw GPU-seconds of a charge (for KPIs), 0 otherwise
    job_id: int | None = None
    source: str = "gateway"  # gateway | slurm-external | swf | alibaba | operator | decision
    external_id: str | None = None
    scenario: str | None = None  # what-if imports: never part of a real balance
    usage_start: datetime | None = None
    usage_end: datetime | None = None
    period: str = ""  # YYYY-MM the entry counts in (a charge: the month its usage ended)
    at: datetime
    actor_id: int | None = None
    reason: str = ""
    key: str  # unique: applying the same entry twice changes nothing
    id: int | None = None


@dataclass(frozen=True)
class Balance:
    granted: int  # grants and adjustments
    charged: int
    reserved: int  # held by open jobs

    @property
    def available(self) -> int:
        return self.granted - self.charged - self.reserved

    @property
    def used_fraction(self) -> float:
        """Charged ÷ granted (what the 50/80/95 % notifications watch)."""
        return self.charged / self.granted if self.granted > 0 else 0.0

    def __add__(self, other: Balance) -> Balance:
        return Balance(self.granted + other.granted, self.charged + other.charged, self.reserved + other.reserved)


def entry_effect(kind: EntryKind, amount: int) -> Balance:
    """What one entry does to a balance; the sum of these over an allocation's entries is its balance."""
    match kind:
        case EntryKind.GRANT | EntryKind.ADJUST:
            return Balance(amount, 0, 0)
        case EntryKind.CHARGE:
            return Balance(0, amount, 0)
        case EntryKind.RESERVE:
            return Balance(0, 0, amount)
        case EntryKind.RELEASE:
            return Balance(0, 0, -amount)
    raise ValueError(kind)


def gpu_hours(seconds: int) -> float:
    return seconds / 3600


def hours_to_seconds(hours: float) -> int:
    return round(hours * 3600)


def billing_rate(resource: Resource, *, gpus: int, cpus: int, memory_mb: int | None) -> float:
    """Billing units per node-second (MAX_TRES): the largest weighted resource the job holds on a node."""
    mem_gb = (memory_mb or 0) / 1024
    return max(
        gpus * resource.gpu_billing_weight, cpus * resource.cpu_billing_weight, mem_gb * resource.memory_billing_weight
    )


def billed_seconds(rate: float, nodes: int, seconds: float) -> int:
    """Integer billing GPU-seconds, rounded up (a started second is a second)."""
    return math.ceil(rate * nodes * max(seconds, 0.0) - 1e-9)


@dataclass(frozen=True)
class Settlement:
    """What closing a job writes: the charge (actual use) and the release (its whole reservation)."""

    charge: int
    gpu_seconds: int
    release: int
    elapsed_seconds: int


def settle(
    *,
    reserved: int,
    rate: float,
    nodes: int,
    gpus_per_node: int,
    tasks_elapsed: float,
    started: bool,
    timed_out: bool,
    time_limit_seconds: int,
    tasks: int,
) -> Settlement:
    """Charge what a finished job used (summed over its tasks). A job that never started is charged nothing; one
    killed at its time limit is charged at least its time limit; nothing is charged past ``tasks`` × the
    limit (a kill's grace period is the factory's). The reservation is released in full: the remainder,
    reservation − charge, goes back to the allocation."""
    if not started:
        return Settlement(0, 0, reserved, 0)
    cap = tasks * time_limit_seconds  # no task runs past its limit (a kill's grace period is not charged)
    elapsed = max(tasks_elapsed, time_limit_seconds) if timed_out else tasks_elapsed
    elapsed = max(1, math.ceil(min(elapsed, cap)))  # a started second is a second
    return Settlement(
        charge=billed_seconds(rate, nodes, elapsed),
        gpu_seconds=gpus_per_node * nodes * elapsed,
        release=reserved,
        elapsed_seconds=elapsed,
    )


@dataclass(frozen=True)
class JobCharge:
    """What the ledger holds for one job: its reservation (the worst case) while it is open, the charge for
    what it used once it is settled. Amounts in billing GPU-seconds."""

    reservation: int  # what the submission reserved
    reserved: int  # held now: the reservation until the settlement releases it
    charged: int
    gpu_seconds: int  # raw GPU-seconds of the charge (GPUs x nodes x seconds, before the billing weights)
    settled: bool


def job_charge(entries: list[LedgerEntry], *, settled: bool) -> JobCharge:
    """A job's charge from its own ledger entries (summed with the same rule as every balance)."""
    balance = sum((entry_effect(e.kind, e.amount) for e in entries), Balance(0, 0, 0))
    return JobCharge(
        reservation=sum(e.amount for e in entries if e.kind is EntryKind.RESERVE),
        reserved=balance.reserved,
        charged=balance.charged,
        gpu_seconds=sum(e.gpu_seconds for e in entries if e.kind is EntryKind.CHARGE),
        settled=settled,
    )


def check_amount(field: str, amount: int, *, allow_negative: bool = False) -> None:
    if amount == 0 or (amount < 0 and not allow_negative):
        raise InvalidInput.on(field, "must be a non-zero amount" if allow_negative else "must be positive")


def month_key(at: datetime | date) -> str:
    return f"{at.year:04d}-{at.month:02d}"


# ------------------------------------------------------------------ soft enforcement: monthly quotas


def months_between(start: date, end: date) -> list[str]:
    """The calendar months an allocation spans, as YYYY-MM."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def monthly_quotas(granted: int, months: list[str]) -> dict[str, int]:
    """The grant split evenly over the months (the remainder to the first months): sums to the grant."""
    if not months:
        return {}
    base, extra = divmod(max(granted, 0), len(months))
    return {m: base + (1 if i < extra else 0) for i, m in enumerate(months)}


@dataclass(frozen=True)
class QuotaState:
    month: str
    quota: int
    carried_over: int  # unused quota of the previous month (carries over one month only)
    used: int

    @property
    def allowance(self) -> int:
        return self.quota + self.carried_over

    @property
    def overdrawn(self) -> bool:
        return self.used > self.allowance


def quota_state(quotas: dict[str, int], used_by_month: dict[str, int], month: str) -> QuotaState:
    """JSC's model: a month's allowance is its quota plus what the previous month left of its own quota
    (never older carry-over). Usage in a month outside the allocation's months has no quota."""
    months = sorted(quotas)
    quota = quotas.get(month, 0)
    carried = 0
    if month in quotas and months.index(month) > 0:
        prev = months[months.index(month) - 1]
        carried = max(0, quotas[prev] - used_by_month.get(prev, 0))
    return QuotaState(month=month, quota=quota, carried_over=carried, used=used_by_month.get(month, 0))


# ------------------------------------------------------------------ notifications

THRESHOLDS = (50, 80, 95)


def reached_thresholds(used_fraction: float, already: set[str]) -> list[str]:
    """Notification events for the use levels reached and not yet raised (each once): ``threshold-80``."""
    return [f"threshold-{t}" for t in THRESHOLDS if used_fraction * 100 >= t and f"threshold-{t}" not in already]
