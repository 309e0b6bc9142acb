"""A job's charge from its own ledger entries: the reservation while it is open, the charge once settled."""

from __future__ import annotations

from datetime import UTC, datetime

from aifactory.domain.ledger import EntryKind, LedgerEntry, job_charge, settle

AT = datetime(2026, 3, 1, tzinfo=UTC)


def entry(kind: EntryKind, amount: int, gpu_seconds: int = 0) -> LedgerEntry:
    return LedgerEntry(
        allocation_id=1,
        project_id=1,
        resource_id=1,
        kind=kind,
        amount=amount,
        gpu_seconds=gpu_seconds,
        job_id=7,
        at=AT,
        key=f"{kind}:job:7",
    )


def test_an_open_job_holds_its_reservation_and_is_charged_nothing() -> None:
    charge = job_charge([entry(EntryKind.RESERVE, 1200)], settled=False)
    assert (charge.reservation, charge.reserved, charge.charged, charge.gpu_seconds) == (1200, 1200, 0, 0)
    assert not charge.settled


def test_a_settled_job_is_charged_what_the_settlement_wrote_and_holds_nothing() -> None:
    s = settle(
        reserved=1200,
        rate=2.0,
        nodes=1,
        gpus_per_node=2,
        tasks_elapsed=42.3,
        started=True,
        timed_out=False,
        time_limit_seconds=600,
        tasks=1,
    )
    entries = [
        entry(EntryKind.RESERVE, 1200),
        entry(EntryKind.CHARGE, s.charge, s.gpu_seconds),
        entry(EntryKind.RELEASE, s.release),
    ]
    charge = job_charge(entries, settled=True)
    assert (charge.reservation, charge.reserved, charge.charged, charge.gpu_seconds) == (1200, 0, 86, 86)
    assert charge.settled


def test_a_job_that_never_ran_is_settled_with_no_charge() -> None:
    charge = job_charge([entry(EntryKind.RESERVE, 300), entry(EntryKind.RELEASE, 300)], settled=True)
    assert (charge.reserved, charge.charged) == (0, 0) and charge.settled


def test_a_job_without_entries_has_nothing() -> None:
    charge = job_charge([], settled=False)
    assert (charge.reservation, charge.reserved, charge.charged) == (0, 0, 0)
