"""The real single-node Slurm cluster (``scripts/slurm-dev-cluster start``).

Every test here needs it: when it does not answer they skip with the command that starts it, and
fail instead when AIFACTORY_REQUIRE_SLURM=1 (as in CI, which starts the cluster itself)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aifactory.api.app import create_app
from aifactory.config import Settings
from aifactory.services.ports import FixedClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support import dbs
from tests.support.demo import PEOPLE, DemoSnapshot, load_rows
from tests.support.slurm import START_COMMAND, SlurmGateway, slurm_unavailable

TEST_ACCOUNT = os.environ.get("AIFACTORY_SLURM_TEST_ACCOUNT", "aifactory-test")


@pytest.fixture(scope="session", autouse=True)
def slurm_cluster() -> None:
    reason = slurm_unavailable()
    if reason is None:
        return
    reason = f"{reason}; start the local cluster with `{START_COMMAND}`"
    if os.environ.get("AIFACTORY_REQUIRE_SLURM") == "1":
        pytest.fail(reason + " (AIFACTORY_REQUIRE_SLURM=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def test_account() -> str:
    return TEST_ACCOUNT


@pytest.fixture
def gateway_api(
    _sqlite_template: Path, demo_snapshot: DemoSnapshot, tmp_path: Path, clock: FixedClock
) -> Iterator[SlurmGateway]:
    """The whole gateway on the cluster: the demo's rows on a fresh SQLite file, the reconciler off (the
    tests run its passes), the data folder readable by the job's user."""
    url = dbs.fresh_sqlite(_sqlite_template, tmp_path / "slurm.db")
    engine = make_engine(url)
    factory = SqlUnitOfWorkFactory(make_session_factory(engine))
    load_rows(factory, demo_snapshot.rows)
    tmp_path.chmod(0o755)
    settings = Settings(
        database_url=url, env="test", data_dir=tmp_path / "data", backend="slurm", reconcile_seconds=0, site="slurmtest"
    )
    with TestClient(create_app(settings, clock=clock)) as client:
        client.headers["Authorization"] = f"Bearer {demo_snapshot.info.tokens[PEOPLE['anna']]}"
        yield SlurmGateway(client, factory, clock)
    engine.dispose()
