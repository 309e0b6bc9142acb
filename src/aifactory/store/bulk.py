"""Bulk inserts of prepared rows (SQLAlchemy Core ``executemany``), for seeding: the demo's year of history.

The rows carry their own ids (from :func:`next_ids`), so rows of one table can point at rows of another in the
same batch; PostgreSQL's id sequences are moved on past them afterwards."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..services.ports import UnitOfWork
from . import tables
from .uow import SqlUnitOfWork

Rows = Mapping[str, Sequence[Mapping[str, Any]]]  # table name -> rows (column -> value)


def _session(uow: UnitOfWork) -> Session:
    if not isinstance(uow, SqlUnitOfWork) or uow.session is None:
        raise TypeError("bulk inserts need an open SQL unit of work")
    return uow.session


def next_ids(uow: UnitOfWork, names: Iterable[str]) -> dict[str, int]:
    """The first free id of each named table (one past its largest)."""
    session = _session(uow)
    out = {}
    for name in names:
        table = tables.metadata.tables[name]
        out[name] = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    return out


def insert_rows(uow: UnitOfWork, rows: Rows) -> dict[str, int]:
    """Insert every table's rows in dependency order, one ``executemany`` per table, in the caller's transaction
    (the caller commits). Returns the number of rows written per table."""
    session = _session(uow)
    unknown = set(rows) - set(tables.metadata.tables)
    if unknown:
        raise ValueError(f"no such tables: {', '.join(sorted(unknown))}")
    written: dict[str, int] = {}
    for table in tables.metadata.sorted_tables:
        batch = list(rows.get(table.name, ()))
        if batch:
            session.execute(table.insert(), batch)
            written[table.name] = len(batch)
    if session.get_bind().dialect.name == "postgresql":
        for name in written:
            if "id" in tables.metadata.tables[name].c:
                session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
    return written


def rows_of(uow: UnitOfWork, name: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Rows of one table by id, as column -> value (for seeding rows like them)."""
    table = tables.metadata.tables[name]
    result = _session(uow).execute(select(table).where(table.c.id.in_(list(ids))))
    return {row["id"]: dict(row) for row in result.mappings()}
