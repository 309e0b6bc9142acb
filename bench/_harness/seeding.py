"""Seeding: a database migrated to head with the demo factory in it (through the real services), and the tools
of the bulk inserts that add volume next to it (SQLAlchemy Core, explicit ids, batches)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, Table

    from aifactory.demo import DemoInfo
    from aifactory.services.ports import Clock
    from aifactory.store.uow import SqlUnitOfWorkFactory

    from .report import Log

BATCH = 5_000
Row = dict[str, Any]


@dataclass(frozen=True)
class DemoDatabase:
    url: str
    engine: Engine
    factory: SqlUnitOfWorkFactory
    info: DemoInfo
    seconds: dict[str, float]  # migrate, demo (services)


@contextmanager
def demo_database(url: str, clock: Clock | None = None) -> Iterator[DemoDatabase]:
    """``url`` migrated to head and seeded with the demo factory (``aifactory.demo.seed_demo``) as of ``clock``
    (default: now); the engine is disposed at the end."""
    from aifactory.demo import seed_demo
    from aifactory.services.ports import SystemClock
    from aifactory.store.engine import make_engine, make_session_factory
    from aifactory.store.migrate import upgrade
    from aifactory.store.uow import SqlUnitOfWorkFactory

    t0 = time.perf_counter()
    upgrade(url)
    seconds = {"migrate": time.perf_counter() - t0}
    engine = make_engine(url)
    try:
        t0 = time.perf_counter()
        factory = SqlUnitOfWorkFactory(make_session_factory(engine))
        info = seed_demo(factory, clock or SystemClock())
        seconds["demo (services)"] = time.perf_counter() - t0
        yield DemoDatabase(url, engine, factory, info, seconds)
    finally:
        engine.dispose()


class ShiftedClock:
    """The system clock, ``offset`` ago (a demo whose history starts in the past)."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) - self.offset


class Ids:
    """The next free id of each table: rows are inserted with explicit ids."""

    def __init__(self, conn: Connection, tables: Iterable[Table]) -> None:
        from sqlalchemy import func, select

        self.next = {t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables}

    def take(self, table: str) -> int:
        n = self.next[table]
        self.next[table] = n + 1
        return n


@dataclass
class Audit:
    """The audit events the bulk rows imply, collected and inserted in time order."""

    events: list[Row] = field(default_factory=list)

    def event(
        self,
        at: datetime,
        actor: int | None,
        action: str,
        entity: str,
        entity_id: int,
        after: Row,
        before: Row | None = None,
    ) -> None:
        self.events.append(
            {
                "occurred_at": at,
                "actor_id": actor,
                "action": action,
                "entity_type": entity,
                "entity_id": entity_id,
                "before": before,
                "after": after,
            }
        )

    def take(self, ids: Ids, *, in_time_order: bool = False) -> list[Row]:
        """The events collected so far, with ids; the collection is emptied."""
        events, self.events = self.events, []
        if in_time_order:
            events.sort(key=lambda r: r["occurred_at"])
        for r in events:
            r["id"] = ids.take("audit_events")
        return events


@dataclass
class Sink:
    """Where bulk rows go: a connection (one transaction), the rows inserted per table, the log."""

    conn: Connection
    log: Log
    counts: dict[str, int] = field(default_factory=dict)

    def insert(self, table: Table, rows: list[Row]) -> None:
        bulk_insert(self.conn, table, rows)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)


def bulk_insert(conn: Connection, table: Table, rows: list[Row]) -> None:
    """executemany in batches (bounded memory)."""
    from sqlalchemy import insert

    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i : i + BATCH])


def move_serials(conn: Connection, tables: Iterable[str]) -> None:
    """PostgreSQL: the id sequences continue after the explicit ids (nothing to do on SQLite)."""
    from sqlalchemy import text

    if conn.dialect.name != "postgresql":
        return
    for name in tables:
        conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), GREATEST((SELECT max(id) FROM {name}), 1))")
        )


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after the bulk inserts (SQLite ANALYZE, PostgreSQL VACUUM ANALYZE)."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    """A key, drawn with its weight."""
    return rng.choices(list(weights), list(weights.values()))[0]


def moment(rng: random.Random, now: datetime, days_ago_max: float, days_ago_min: float = 0.0) -> datetime:
    """A time in the window, denser towards now (the factory grows)."""
    u = math.sqrt(rng.random())
    return now - timedelta(days=days_ago_max - u * (days_ago_max - days_ago_min))
