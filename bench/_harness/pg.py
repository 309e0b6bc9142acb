"""A throwaway PostgreSQL database for a bench run (as tests/support/dbs.py makes them for the tests)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .report import Log


def normalize_pg_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` with the psycopg driver that aifactory uses."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@contextmanager
def throwaway_pg_database(server_url: str, log: Log, name: str | None = None) -> Iterator[str]:
    """A fresh database ``name`` (default: one per process) on the PostgreSQL server of ``server_url``
    (dropped first if a crashed run left it), dropped afterwards; yields its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(normalize_pg_url(server_url))
    if not admin_url.drivername.startswith("postgresql"):
        raise SystemExit(f"--database-url must name a PostgreSQL server, not {admin_url.drivername}")
    name = name or f"aifactory_bench_{os.getpid()}"
    admin = create_engine(admin_url.set(database=admin_url.database or "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        log(f"created PostgreSQL database {name}")
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            log(f"dropped PostgreSQL database {name}")
    finally:
        admin.dispose()
