"""The real single-node Slurm cluster (``scripts/slurm-dev-cluster start``).

Every test here needs it: when it does not answer they skip with the command that starts it, and
fail instead when AIFACTORY_REQUIRE_SLURM=1 (as in CI, which starts the cluster itself)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, cast, literal, update

from aifactory.api.app import create_app
from aifactory.config import Settings
from aifactory.services.ports import FixedClock
from aifactory.store import tables
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support import dbs
from tests.support.demo import PEOPLE, DemoSnapshot, load_rows
from tests.support.identities import LocalAccounts, policy_settings, reachable_folder, require_root, unique_policy
from tests.support.slurm import START_COMMAND, OwnerGateway, SlurmGateway, run, slurm_unavailable

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


@pytest.fixture
def owner_api(_sqlite_template: Path, demo_snapshot: DemoSnapshot, clock: FixedClock) -> Iterator[OwnerGateway]:
    """The gateway on the cluster with POSIX identities on (the local provisioner, a prefix and id ranges of this
    test's own): jobs run as their owners. The data folder lies where jobs can pass through (0711), with the
    database in it; the accounts and associations the test made are removed afterwards."""
    require_root()
    policy = unique_policy()
    accounts = LocalAccounts(policy.prefix)
    with reachable_folder("slurm") as base:
        data = base / "data"
        data.mkdir()
        url = dbs.fresh_sqlite(_sqlite_template, data / "aifactory.db")
        engine = make_engine(url)
        factory = SqlUnitOfWorkFactory(make_session_factory(engine))
        load_rows(factory, demo_snapshot.rows)
        with factory() as uow:  # Slurm accounts of this test's own: its associations are set exactly
            uow.session.execute(
                update(tables.projects).values(
                    slurm_account=literal(f"{policy.prefix}_") + cast(tables.projects.c.id, String)
                )
            )
            uow.commit()
        settings = Settings(
            database_url=url,
            env="test",
            data_dir=data,
            backend="slurm",
            reconcile_seconds=0,
            site="slurmtest",
            identity_kind="local",
            **policy_settings(policy),
        )
        settings.ensure_dirs()
        try:
            with TestClient(create_app(settings, clock=clock)) as client:
                yield OwnerGateway(client, factory, clock, demo_snapshot.info.tokens, data)
        finally:
            engine.dispose()
            accounts.cleanup()
            names = ",".join(f"{policy.prefix}_{project}" for project in range(1, 10))
            run("sacctmgr", "-i", "delete", "account", "where", f"name={names}", check=False)
