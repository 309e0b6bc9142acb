"""`aifactory demo` seeds the year of history unless --no-history, and says how long the seeding took."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.cli import Cli


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_the_demo_command_seeds_the_history_unless_told_not_to(tmp_path: Path) -> None:
    cli, data = Cli(tmp_path / "config"), tmp_path / "data"
    db = data / "demo" / "demo.db"
    with_history = cli("demo", "--no-serve", "--data-dir", data)
    assert "its year of history" in with_history.stderr and "demo database ready in" in with_history.stderr
    jobs, calls = _count(db, "jobs"), _count(db, "calls")
    assert jobs > 500 and calls == 6  # the three current calls and their earlier round
    without = cli("demo", "--no-serve", "--no-history", "--data-dir", data)  # a fresh database
    assert "year of history" not in without.stderr and "demo database ready in" in without.stderr
    assert _count(db, "jobs") == 0 and _count(db, "calls") == 3
