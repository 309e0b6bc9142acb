"""Migration 0008 on a database with rows: existing catalog items stay listed, slugs become unique per owner
organization (two organizations may then share one), and a downgrade keeps every item (the younger of a
shared slug gets its id appended)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from aifactory.store.migrate import alembic_config, upgrade
from tests.support import dbs

NOW = "2026-03-02 09:00:00"
ITEM = (
    "INSERT INTO catalog_items (kind, slug, title, summary, body, owner_organization_id, visibility, tags, details, "
    "created_at, updated_at) VALUES ('dataset', :slug, 'T', '', '', :org, :vis, '[]', '{}', :now, :now)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    dbs.skip_or_fail_without_pg()
    name = f"aifactory_m8_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        yield dbs.create_pg_database(name)
    finally:
        dbs.drop_pg_database(name)


def test_items_stay_listed_and_slugs_become_per_organization(url: str) -> None:
    upgrade(url, "0007")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for name in ("A", "B"):
                conn.execute(
                    text(
                        "INSERT INTO organizations (name, kind, country, sectors, created_at) "
                        "VALUES (:n, 'sme', 'DE', '[]', :now)"
                    ),
                    {"n": name, "now": NOW},
                )
            conn.execute(text(ITEM), {"slug": "sales", "org": 1, "vis": "public", "now": NOW})
        upgrade(url)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT approval FROM catalog_items")).scalar_one() == "approved"
            conn.execute(text(ITEM), {"slug": "sales", "org": 2, "vis": "organization", "now": NOW})
        with pytest.raises(IntegrityError), engine.begin() as conn:  # one per organization
            conn.execute(text(ITEM), {"slug": "sales", "org": 2, "vis": "organization", "now": NOW})
        with pytest.raises(IntegrityError), engine.begin() as conn:  # one listed item per kind and slug
            conn.execute(text(ITEM), {"slug": "sales", "org": None, "vis": "public", "now": NOW})
        command.downgrade(alembic_config(url), "0007")
        with engine.connect() as conn:
            slugs = conn.execute(text("SELECT slug FROM catalog_items ORDER BY id")).scalars().all()
        assert slugs == ["sales", "sales-2"]
    finally:
        engine.dispose()
