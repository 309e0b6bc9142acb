"""The demo with its year of history: the tests' demo rows (tests/support/demo.py), then the history on top."""

from __future__ import annotations

import pytest

from aifactory.demo_history import seed_history
from aifactory.services.ports import FixedClock
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.api import Api
from tests.support.demo import DemoSnapshot, load_rows
from tests.support.portal import Portal


@pytest.fixture
def history(uow_factory: SqlUnitOfWorkFactory, clock: FixedClock, demo_snapshot: DemoSnapshot) -> dict[str, int]:
    """The demo's rows and its history (as of the tests' clock) in this test's database; rows written per table."""
    load_rows(uow_factory, demo_snapshot.rows)
    return seed_history(uow_factory, clock, demo_snapshot.info)


@pytest.fixture
def history_portal(api: Api) -> Portal:
    """The portal on the demo (loaded by ``api``) with the history added before the first page."""
    seed_history(api.uow_factory, api.clock, api.info)
    return Portal(api)
