from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from aifactory.services.ports import FixedClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.migrate import upgrade
from aifactory.store.uow import SqlUnitOfWorkFactory

from . import dbs


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory):
    return dbs.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def _pg_database(worker_id: str) -> Iterator[str]:
    dbs.skip_or_fail_without_pg()
    name = f"aifactory_test_{os.getpid()}_{worker_id}"
    url = dbs.create_pg_database(name)
    upgrade(url)
    yield url
    dbs.drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A migrated, empty database: each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return dbs.fresh_sqlite(request.getfixturevalue("_sqlite_template"), tmp_path / "test.db")
    url = request.getfixturevalue("_pg_database")
    dbs.truncate_pg(url)
    return url


@pytest.fixture
def uow_factory(database_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    engine = make_engine(database_url)
    yield SqlUnitOfWorkFactory(make_session_factory(engine))
    engine.dispose()


#: A Monday; working-day arithmetic in the tests is checked by hand against the NRW holiday calendar.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)
