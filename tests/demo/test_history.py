"""The demo's year of history (aifactory.demo_history): the same seed gives the same rows; the rows are what the
services would have written (the ledger reconciles, every job is settled, every accepted proposal has its
project); it spans the last twelve months of the clock and every organization kind and access mode."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from aifactory.demo_history import MONTHS, first_month, plan_history, read_base, seed_history
from aifactory.domain.enums import AllocationStatus, OrgKind, ProposalStatus
from aifactory.domain.jobs.states import JobState
from aifactory.domain.ledger import EntryKind, month_key
from aifactory.services import ledger, reports
from aifactory.services.context import Actor
from aifactory.services.ports import FixedClock
from aifactory.store import tables
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.demo import PEOPLE, DemoSnapshot, load_rows

TERMINAL = {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT}


def _months(clock: FixedClock) -> list[str]:
    start = first_month(clock.now())
    return [
        month_key(start.replace(year=start.year + (start.month - 1 + k) // 12, month=(start.month - 1 + k) % 12 + 1))
        for k in range(MONTHS)
    ]


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(
    uow_factory: SqlUnitOfWorkFactory, clock: FixedClock, demo_snapshot: DemoSnapshot
) -> None:
    load_rows(uow_factory, demo_snapshot.rows)
    with uow_factory(write=False) as uow:
        base = read_base(uow, clock, demo_snapshot.info)
    planned = plan_history(base)
    assert planned == plan_history(base) and plan_history(base, seed=7) != planned
    written = seed_history(uow_factory, clock, demo_snapshot.info)  # the same base and seed: these rows
    assert written == {t: len(rows) for t, rows in planned.items()}
    entries = tables.ledger_entries.c
    with uow_factory(write=False) as uow:
        stored = uow.session.execute(
            select(entries.id, entries.key, entries.amount).where(entries.id >= base.first_ids["ledger_entries"])
        ).all()
    assert sorted(stored) == sorted((r["id"], r["key"], r["amount"]) for r in planned["ledger_entries"])


def test_the_ledger_reconciles_and_every_job_is_settled(
    history: dict[str, int], uow_factory: SqlUnitOfWorkFactory
) -> None:
    assert history["jobs"] > 500 and history["ledger_entries"] > 3 * history["jobs"] // 2
    with uow_factory(write=False) as uow:
        checked, problems = ledger.check_ledger(uow)
        assert problems == [] and checked == history["allocations"] + 2  # the demo's bakery and gridwise too
        allocations = uow.allocations.all()
        jobs = uow.session.execute(select(tables.jobs)).mappings().all()
        charges = uow.session.execute(
            select(tables.ledger_entries.c.allocation_id, func.sum(tables.ledger_entries.c.amount))
            .where(tables.ledger_entries.c.kind == EntryKind.CHARGE)
            .group_by(tables.ledger_entries.c.allocation_id)
        ).all()
    charged = dict(charges)
    for a in allocations:
        assert a.charged_seconds == charged.get(a.id, 0) and a.reserved_seconds == 0
    assert {j["state"] for j in jobs} <= TERMINAL and all(j["settled_at"] is not None for j in jobs)
    assert all(j["submitted_at"] <= j["finished_at"] <= j["settled_at"] for j in jobs)
    expired = {a.id for a in allocations if a.status is AllocationStatus.EXPIRED}
    assert expired and any(j["allocation_id"] in expired for j in jobs)


def test_it_covers_the_last_twelve_months_of_the_clock(
    history: dict[str, int], uow_factory: SqlUnitOfWorkFactory, clock: FixedClock
) -> None:
    months = _months(clock)
    assert months[-1] == month_key(clock.now())
    with uow_factory(write=False) as uow:
        submitted = uow.session.scalars(
            select(tables.proposals.c.submitted_at).where(tables.proposals.c.submitted_at.is_not(None))
        ).all()
        periods = set(
            uow.session.scalars(
                select(tables.ledger_entries.c.period).where(tables.ledger_entries.c.kind == EntryKind.CHARGE)
            ).all()
        )
        latest = uow.session.scalar(select(func.max(tables.ledger_entries.c.at)))
    assert {month_key(at) for at in submitted} >= set(months[:-1])  # this month may have just begun
    assert all(at <= clock.now() for at in submitted) and latest <= clock.now()
    assert periods <= set(months) and len(periods) >= MONTHS - 2  # the first projects start a few days in
    assert min(submitted) >= clock.now() - timedelta(days=366 + 31)


def test_it_covers_every_organization_kind_and_access_mode(
    history: dict[str, int], uow_factory: SqlUnitOfWorkFactory
) -> None:
    with uow_factory(write=False) as uow:
        op = Actor(uow.users.by_email(PEOPLE["operator"]))
        by_kind = reports.gpu_hours_by(uow, op, "org_kind")
        by_mode = reports.gpu_hours_by(uow, op, "access_mode")
        statuses = Counter(uow.session.scalars(select(tables.proposals.c.status)).all())
        decided = reports.time_to_decision(uow, op)
    assert {r.key for r in by_kind.rows if r.gpu_hours > 0} == {k.value for k in OrgKind}
    assert {r.key for r in by_mode.rows if r.gpu_hours > 0} == {"playground", "fast_lane", "large_scale"}
    assert statuses[ProposalStatus.REJECTED] > 0 and statuses[ProposalStatus.ACCEPTED] > 20
    assert statuses[ProposalStatus.SUBMITTED] + statuses[ProposalStatus.UNDER_REVIEW] >= 5  # the operator's queue
    assert all(r.count > 0 for r in decided)


def test_the_tests_demo_has_no_history(uow_factory: SqlUnitOfWorkFactory, demo_snapshot: DemoSnapshot) -> None:
    assert demo_snapshot.info.history_rows == {}
    assert demo_snapshot.rows["jobs"] == [] and len(demo_snapshot.rows["calls"]) == 3
