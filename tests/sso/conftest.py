"""Single sign-on tests: the real app on the demo (SQLite and PostgreSQL) with the real OpenID provider of
scripts/oidc-dev-provider configured as "devaai", organization rules included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aifactory.config import Settings
from aifactory.services.ports import FixedClock
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.api import Api
from tests.support.demo import DemoSnapshot, load_rows
from tests.support.oidc import ADA_GROUP, DevProvider, dev_provider
from tests.support.sso import PUBLIC_URL, down_provider

RULES = [
    {"group": ADA_GROUP, "organization": "Forschungszentrum Nord"},
    {"domain": "backhaus-kiel.example", "organization": "Backhaus Kiel GmbH"},
]


@pytest.fixture
def provider() -> DevProvider:
    return dev_provider()


@pytest.fixture
def sso_api(
    database_url: str,
    uow_factory: SqlUnitOfWorkFactory,
    clock: FixedClock,
    demo_snapshot: DemoSnapshot,
    tmp_path: Path,
    provider: DevProvider,
) -> Iterator[Api]:
    """The app on the demo with two sign-in services: the real provider, and one that does not answer."""
    from aifactory.api.app import create_app

    load_rows(uow_factory, demo_snapshot.rows)
    settings = Settings(
        database_url=database_url,
        env="test",
        data_dir=tmp_path / "data",
        reconcile_seconds=0,
        public_url=PUBLIC_URL,
        oidc_providers=[provider.settings(organizations=RULES), down_provider()],
    )
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Api(client, demo_snapshot.info, clock, uow_factory)
