"""Accounts in tests: marking a sign-up's address verified where a test's person owns their mailbox but the test
is about something else (the link itself is tested in tests/api/test_accounts_api.py and tests/web)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, update

from aifactory.store import tables as t


def mark_verified(database_url: str, email: str) -> None:
    """As if the person had opened the link e-mailed at sign-up."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(update(t.users).where(t.users.c.email == email).values(email_verified_at=datetime.now(UTC)))
    finally:
        engine.dispose()
