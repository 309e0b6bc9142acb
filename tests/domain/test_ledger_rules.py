"""The ledger's pure rules: billing, settlement, balances, monthly quotas with one month of carry-over."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from aifactory.domain.ledger import (
    Balance,
    EntryKind,
    Settlement,
    billed_seconds,
    billing_rate,
    entry_effect,
    monthly_quotas,
    months_between,
    quota_state,
    reached_thresholds,
    settle,
)
from aifactory.domain.sites import Resource

NODE = Resource(
    name="booster",
    nodes=10,
    gpus_per_node=4,
    cpus_per_node=288,
    memory_gb_per_node=480,
    gpu_billing_weight=1.0,
    cpu_billing_weight=4 / 288,
    memory_billing_weight=4 / 480,
)


def test_billing_takes_the_largest_weighted_resource_per_node() -> None:
    assert billing_rate(NODE, gpus=2, cpus=8, memory_mb=None) == 2  # GPUs dominate
    assert billing_rate(NODE, gpus=0, cpus=144, memory_mb=None) == 2  # half the CPUs = half the node
    assert billing_rate(NODE, gpus=1, cpus=1, memory_mb=480 * 1024) == 4  # all the memory: the whole node
    assert billed_seconds(2.0, 3, 60) == 360 and billed_seconds(1 / 3, 1, 1) == 1  # rounded up


def test_settlement() -> None:
    kw = dict(reserved=14400, rate=4.0, nodes=1, gpus_per_node=4, time_limit_seconds=3600, tasks=1)
    assert settle(tasks_elapsed=0, started=False, timed_out=False, **kw) == Settlement(0, 0, 14400, 0)
    s = settle(tasks_elapsed=900.2, started=True, timed_out=False, **kw)
    assert (s.charge, s.gpu_seconds, s.release, s.elapsed_seconds) == (3604, 3604, 14400, 901)
    assert settle(tasks_elapsed=3630, started=True, timed_out=True, **kw).charge == 14400  # its limit, no grace
    assert settle(tasks_elapsed=3000, started=True, timed_out=True, **kw).charge == 14400  # killed at the limit
    arr = settle(tasks_elapsed=5000, started=True, timed_out=False, **{**kw, "tasks": 3})
    assert arr.charge == 4 * 5000


def test_a_balance_is_the_sum_of_its_entries() -> None:
    entries = [
        (EntryKind.GRANT, 100),
        (EntryKind.RESERVE, 40),
        (EntryKind.CHARGE, 25),
        (EntryKind.RELEASE, 40),
        (EntryKind.ADJUST, -10),
        (EntryKind.RESERVE, 5),
    ]
    total = sum((entry_effect(k, a) for k, a in entries), Balance(0, 0, 0))
    assert total == Balance(90, 25, 5) and total.available == 60 and total.used_fraction == 25 / 90


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=60))
def test_monthly_quotas_add_up_to_the_grant(granted: int, n: int) -> None:
    quotas = monthly_quotas(granted, [f"m{i:02d}" for i in range(n)])
    assert sum(quotas.values()) == granted and max(quotas.values()) - min(quotas.values()) <= 1


def test_months_and_carry_over_of_one_month_only() -> None:
    months = months_between(date(2026, 11, 15), date(2027, 2, 14))
    assert months == ["2026-11", "2026-12", "2027-01", "2027-02"]
    quotas = monthly_quotas(400, months)
    used = {"2026-11": 40, "2026-12": 100, "2027-01": 150}
    nov, dec, jan = (quota_state(quotas, used, m) for m in months[:3])
    assert (nov.allowance, nov.overdrawn) == (100, False)
    assert (dec.carried_over, dec.allowance, dec.overdrawn) == (60, 160, False)  # November's 60 unused
    assert (jan.carried_over, jan.allowance, jan.overdrawn) == (0, 100, True)  # December used its own 100
    assert quota_state(quotas, used, "2027-05").quota == 0


def test_thresholds_are_reached_once() -> None:
    assert reached_thresholds(0.49, set()) == []
    assert reached_thresholds(0.81, set()) == ["threshold-50", "threshold-80"]
    assert reached_thresholds(0.97, {"threshold-50", "threshold-80"}) == ["threshold-95"]
