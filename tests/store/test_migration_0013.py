"""Migration 0013 on a database with rows: every account that exists already counts as verified (at its
creation), new sign-ups start unverified, and the e-mailed links' table keeps one row per token hash."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from aifactory.store.migrate import alembic_config, upgrade
from tests.store.test_migration_0008 import NOW, url  # noqa: F401 - the fixture: SQLite and PostgreSQL

USER = (
    "INSERT INTO users (email, name, is_operator, is_reviewer, is_org_admin, active, created_at, language) "
    "VALUES (:email, 'P', false, false, false, true, :now, 'en')"
)


def test_existing_accounts_are_verified_and_new_ones_are_not(url: str) -> None:  # noqa: F811
    upgrade(url, "0012")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(USER), {"email": "old@x.example", "now": NOW})
        upgrade(url, "0013")
        with engine.begin() as conn:
            conn.execute(text(USER), {"email": "new@x.example", "now": NOW})
            rows = dict(conn.execute(text("SELECT email, email_verified_at FROM users ORDER BY id")).all())
        assert rows["old@x.example"] is not None and rows["new@x.example"] is None
        command.downgrade(alembic_config(url), "0012")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 2
    finally:
        engine.dispose()
