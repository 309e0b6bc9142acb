"""Charge entries as the settlement posts them (one per job, at its end, with its run), for tests that need
real usage in the ledger without running jobs."""

from __future__ import annotations

from datetime import datetime

from aifactory.domain.ledger import EntryKind, LedgerEntry
from aifactory.domain.months import month_key
from aifactory.domain.projects import Allocation
from aifactory.services import ledger
from aifactory.services.ports import UnitOfWorkFactory


def post_run(
    uow_factory: UnitOfWorkFactory, alloc: Allocation, key: str, amount: int, run: tuple[datetime, datetime]
) -> None:
    """Charge ``amount`` billing GPU-seconds to ``alloc`` for a job that ran ``run`` (start, end)."""
    start, end = run
    fields = dict(allocation_id=alloc.id, project_id=alloc.project_id, resource_id=alloc.resource_id)
    entry = LedgerEntry(**fields, kind=EntryKind.CHARGE, amount=amount, gpu_seconds=amount, key=key, at=end)
    entry.usage_start, entry.usage_end, entry.period = start, end, month_key(end)
    with uow_factory() as uow:
        assert ledger.post(uow, entry), key
        uow.commit()
