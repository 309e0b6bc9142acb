"""Fixtures of the real app on the demo, for every test package (a plugin: ``pytest_plugins`` in tests/conftest.py).

The demo is seeded through the services once per test session (on SQLite); each test then gets the resulting
rows inserted into its own fresh database, SQLite or PostgreSQL (tests/services/test_demo.py seeds it through
the services on both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aifactory.config import Settings
from aifactory.services.ports import FixedClock
from aifactory.store.uow import SqlUnitOfWorkFactory

from .api import Api
from .clock import START
from .demo import DemoSnapshot, load_rows, snapshot_demo


@pytest.fixture(scope="session")
def demo_snapshot(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoSnapshot:
    """The demo seeded through the services (as of START), and every row it wrote."""
    return snapshot_demo(_sqlite_template, tmp_path_factory.mktemp("demo") / "demo.db", FixedClock(START))


@pytest.fixture
def api(
    database_url: str,
    uow_factory: SqlUnitOfWorkFactory,
    clock: FixedClock,
    demo_snapshot: DemoSnapshot,
    tmp_path: Path,
) -> Iterator[Api]:
    """The app on the demo; jobs go to a local executor in tmp_path (the tests run the reconciler's passes)."""
    from aifactory.api.app import create_app  # here: a session that needs no app (tests/domain) never imports it

    load_rows(uow_factory, demo_snapshot.rows)
    settings = Settings(
        database_url=database_url, env="test", data_dir=tmp_path / "data", reconcile_seconds=0, gpu_slots=4
    )
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Api(client, demo_snapshot.info, clock, uow_factory)
