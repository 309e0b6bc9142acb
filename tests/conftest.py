"""Fixtures of every test package: throwaway databases (SQLite and PostgreSQL), a fixed clock, and (from the
plugin tests.support.app_fixtures) the demo and the real app on it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.services.ports import FixedClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.migrate import upgrade
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support import dbs, slurm_outage
from tests.support.clock import START

pytest_plugins = ["tests.support.app_fixtures"]

# POSIX identities are opt-in in the tests: AIFACTORY_IDENTITY_KIND=auto would create real accounts for every
# test's users when the suite runs as root (as CI does). tests/identity, tests/slurm and the attackers' suite
# turn them on with a prefix and id ranges of their own.
os.environ.setdefault("AIFACTORY_IDENTITY_KIND", "none")


@pytest.fixture(autouse=True)
def _slurm_cluster_lock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests on the real Slurm cluster share it; one that stops its controller holds it alone
    (``tests.support.slurm_outage``), so that no other test sees the outage."""
    if request.node.get_closest_marker("slurm") is None:
        yield
        return
    with slurm_outage.cluster_lock(exclusive=slurm_outage.OUTAGE_FIXTURE in request.fixturenames):
        yield


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
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


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)
