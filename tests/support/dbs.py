"""Throwaway databases for tests: a migrated SQLite file per test, a migrated PostgreSQL database per
worker (emptied between tests). PostgreSQL tests skip with a reason only where no server answers,
and fail instead when AIFACTORY_REQUIRE_POSTGRES=1 (as in CI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from aifactory.store.migrate import upgrade
from aifactory.store.tables import metadata

PG_ADMIN_URL = os.environ.get("AIFACTORY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_available() -> str | None:
    """None when a server answers, else the reason."""
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"


def skip_or_fail_without_pg() -> None:
    reason = pg_available()
    if reason is None:
        return
    if os.environ.get("AIFACTORY_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason + " (AIFACTORY_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


def create_pg_database(name: str) -> str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_pg(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def sqlite_template(dir_: Path) -> Path:
    path = dir_ / "template.db"
    if not path.exists():
        upgrade(f"sqlite:///{path}")
    return path


def fresh_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
