"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from .mapping import map_entities

WRITE_OPTION = "aifactory_write"


def make_engine(url: str, *, echo: bool = False, pool_size: int = 40) -> Engine:
    """``pool_size`` must cover every connection the app may hold at once (see api.middleware)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=0,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # Writing units of work begin with BEGIN IMMEDIATE: the write lock is taken up front, so two
        # transactions never both read and then fail to upgrade to writing (SQLITE_BUSY_SNAPSHOT).
        # Reading units of work use a plain BEGIN and run concurrently under WAL.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_conn: Any, _record: object) -> None:  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:  # pragma: no cover - trivial
            immediate = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=0, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    map_entities()
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
