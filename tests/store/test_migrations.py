"""Alembic: an empty database upgrades to head, matches store/tables.py exactly, and downgrades to base."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from aifactory.store.migrate import alembic_config, current_revision, upgrade
from aifactory.store.tables import metadata
from tests.support import dbs


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A brand-new, empty database (not the shared migrated one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    dbs.skip_or_fail_without_pg()
    name = f"aifactory_migr_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = dbs.create_pg_database(name)
    try:
        yield url
    finally:
        dbs.drop_pg_database(name)


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_matches_the_metadata_and_downgrade_removes_everything(empty_url):
    assert table_names(empty_url) == set()
    upgrade(empty_url)
    head = ScriptDirectory.from_config(alembic_config(empty_url)).get_current_head()
    assert current_revision(empty_url) == head
    assert table_names(empty_url) == set(metadata.tables)

    engine = create_engine(empty_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            diff = compare_metadata(ctx, metadata)
    finally:
        engine.dispose()
    assert diff == [], f"store/tables.py and the migrations disagree: {diff}"

    command.downgrade(alembic_config(empty_url), "base")
    assert table_names(empty_url) == set()
    assert current_revision(empty_url) is None
    upgrade(empty_url)  # and back up again, e.g. after a rollback of a release
    assert table_names(empty_url) == set(metadata.tables)


def test_the_audit_log_is_append_only_right_after_migration(empty_url):
    upgrade(empty_url)
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, action, entity_type) "
                    "VALUES (CURRENT_TIMESTAMP, 'test.inserted', 'test')"
                )
            )
        for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT action FROM audit_events")).scalars().all() == ["test.inserted"]
    finally:
        engine.dispose()
