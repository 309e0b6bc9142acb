"""Repositories of the ledger: its entries (append-only) and allocation locks."""

from __future__ import annotations

import builtins

from sqlalchemy import case, func, select

from ..domain.access import Page, PageRequest
from ..domain.ledger import Balance, EntryKind, LedgerEntry
from ..domain.projects import Allocation
from . import tables as t
from .repositories import Repository


class LedgerRepository(Repository[LedgerEntry]):
    entity = LedgerEntry

    def by_key(self, key: str) -> LedgerEntry | None:
        return self.session.scalar(select(LedgerEntry).where(t.ledger_entries.c.key == key))

    def lock_allocation(self, allocation_id: int) -> Allocation | None:
        """The allocation, locked until the transaction ends (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite's
        writers are serialized by the ``BEGIN IMMEDIATE`` of every writing unit of work)."""
        stmt = select(Allocation).where(t.allocations.c.id == allocation_id).with_for_update()
        return self.session.scalars(stmt.execution_options(populate_existing=True)).first()

    def list(
        self, page: PageRequest, *, allocation_id: int, kind: str | None = None, job_id: int | None = None
    ) -> Page[LedgerEntry]:
        stmt = (
            select(LedgerEntry)
            .where(t.ledger_entries.c.allocation_id == allocation_id)
            .order_by(t.ledger_entries.c.id.desc())
        )
        if kind:
            stmt = stmt.where(t.ledger_entries.c.kind == kind)
        if job_id is not None:
            stmt = stmt.where(t.ledger_entries.c.job_id == job_id)
        return self._page(stmt, page)

    def for_job(self, job_id: int) -> builtins.list[LedgerEntry]:
        return list(
            self.session.scalars(
                select(LedgerEntry).where(t.ledger_entries.c.job_id == job_id).order_by(t.ledger_entries.c.id)
            )
        )

    def derived_balances(self) -> dict[int, Balance]:
        """Every allocation's balance summed from its entries (what ``check-ledger`` compares)."""
        amount = t.ledger_entries.c.amount
        stmt = (
            select(
                t.ledger_entries.c.allocation_id,
                func.sum(case((t.ledger_entries.c.kind.in_([EntryKind.GRANT, EntryKind.ADJUST]), amount), else_=0)),
                func.sum(case((t.ledger_entries.c.kind == EntryKind.CHARGE, amount), else_=0)),
                func.sum(
                    case(
                        (t.ledger_entries.c.kind == EntryKind.RESERVE, amount),
                        (t.ledger_entries.c.kind == EntryKind.RELEASE, -amount),
                        else_=0,
                    )
                ),
            )
            .where(t.ledger_entries.c.allocation_id.is_not(None), t.ledger_entries.c.scenario.is_(None))
            .group_by(t.ledger_entries.c.allocation_id)
        )
        return {a: Balance(int(g or 0), int(c or 0), int(r or 0)) for a, g, c, r in self.session.execute(stmt)}

    def charged_by_month(self, allocation_id: int) -> dict[str, int]:
        stmt = (
            select(t.ledger_entries.c.period, func.sum(t.ledger_entries.c.amount))
            .where(
                t.ledger_entries.c.allocation_id == allocation_id,
                t.ledger_entries.c.kind == EntryKind.CHARGE,
                t.ledger_entries.c.scenario.is_(None),
            )
            .group_by(t.ledger_entries.c.period)
        )
        return {p: int(v) for p, v in self.session.execute(stmt)}

    def job_entry_sums(self) -> builtins.list[tuple[int, str, int, int]]:
        """(job id, kind, count, sum) for every job's entries: reservations released once, never twice."""
        stmt = (
            select(
                t.ledger_entries.c.job_id, t.ledger_entries.c.kind, func.count(), func.sum(t.ledger_entries.c.amount)
            )
            .where(t.ledger_entries.c.job_id.is_not(None))
            .group_by(t.ledger_entries.c.job_id, t.ledger_entries.c.kind)
        )
        return [(j, str(k), int(n), int(s)) for j, k, n, s in self.session.execute(stmt)]
