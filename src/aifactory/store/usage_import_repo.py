"""The unit of work's ``usage_imports``: trace imports (one ``usage_imports`` row per file hash and scenario,
holding the checkpoint) and their ledger rows, written with the DBAPI's ``executemany`` (the fast path:
rows arrive as tuples already in the form the column types would bind, see ``services.usage_rows``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.orm import Session

from ..services.repositories import ImportCheckpoint
from ..services.usage_rows import COLUMNS
from .tables import usage_imports


def insert_sql(paramstyle: str, *, ignore_duplicates: bool = True) -> str:
    """The DBAPI ``INSERT`` of ``usage_rows.COLUMNS`` into ``ledger_entries`` (``qmark`` or ``format``
    parameters); a key seen before is ignored unless ``ignore_duplicates`` is False."""
    marks = ", ".join(["?" if paramstyle == "qmark" else "%s"] * len(COLUMNS))
    tail = " ON CONFLICT DO NOTHING" if ignore_duplicates else ""
    return f"INSERT INTO ledger_entries ({', '.join(COLUMNS)}) VALUES ({marks}){tail}"


def _checkpoint(row: RowMapping) -> ImportCheckpoint:
    return ImportCheckpoint(row["id"], row["state"], row["position"], row["imported"], dict(row["skipped"] or {}))


class UsageImportRepository:
    def __init__(self, session: Session):
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def start(self, source: str, path: str, sha256: str, scenario: str, at: datetime) -> ImportCheckpoint:
        """The import's row, created as running if there is none."""
        find = select(usage_imports).where(usage_imports.c.sha256 == sha256, usage_imports.c.scenario == scenario)
        row = self.session.execute(find).mappings().first()
        if row is None:
            values = dict(source=source, path=path, sha256=sha256, scenario=scenario, state="running")
            self.session.execute(
                insert(usage_imports).values(**values, position=0, imported=0, skipped={}, started_at=at)
            )
            row = self.session.execute(find).mappings().one()
        return _checkpoint(row)

    def insert_entries(self, rows: Sequence[tuple[object, ...]]) -> int:
        """Insert ledger rows, ignoring any whose key is already there; returns how many were written."""
        if not rows:
            return 0
        conn = self.session.connection()
        return conn.exec_driver_sql(insert_sql(conn.dialect.paramstyle), rows).rowcount

    def save(self, checkpoint: ImportCheckpoint, *, finished_at: datetime | None = None) -> None:
        """Store the checkpoint (and when the import finished, once it is ``done``)."""
        values: dict[str, object] = dict(
            state=checkpoint.state,
            position=checkpoint.position,
            imported=checkpoint.imported,
            skipped=dict(checkpoint.skipped),
        )
        if finished_at is not None:
            values["finished_at"] = finished_at
        self.session.execute(update(usage_imports).where(usage_imports.c.id == checkpoint.import_id).values(**values))
