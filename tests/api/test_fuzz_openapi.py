"""A bounded property-based fuzz of every operation in the OpenAPI document: whatever the input (valid or
not), as an operator and as an applicant, the API never answers with a server error.

Runs on SQLite only: one seeded demo database for the module (requests may change it; that is fine, only
the absence of 5xx is asserted). Before each example the two users get fresh tokens and their roles back,
so that a fuzzed ``DELETE /tokens/1`` or ``PATCH /users/…/roles`` does not lock the fuzzer out."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from aifactory.api.app import create_app
from aifactory.config import Settings
from aifactory.demo import OPERATOR_EMAIL, seed_demo
from aifactory.services import identity
from aifactory.services.context import Actor
from aifactory.services.jobs import Gateway
from aifactory.services.ports import FixedClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeBackend
from tests.support import dbs
from tests.support.clock import START

APPLICANT = "anna@backhaus-kiel.example"  # org admin, PI of the bakery project
ROLES = {
    OPERATOR_EMAIL: {"is_operator": True, "is_reviewer": False},
    APPLICANT: {"is_operator": False, "is_reviewer": False},
}
MAX_EXAMPLES = 12

pytestmark = pytest.mark.slow


# The app is built at import, for schemathesis to read its OpenAPI document while collecting (that needs no
# database: the engine connects on the first request). The fixture below creates and seeds the database
# file before any request is made.
_DB_DIR = Path(tempfile.mkdtemp(prefix="aifactory-fuzz-"))
atexit.register(shutil.rmtree, _DB_DIR, True)  # also when the module is collected but not run
_DB_URL = f"sqlite:///{_DB_DIR / 'fuzz.db'}"
CLOCK = FixedClock(START)
# jobs go to an inert backend: fuzzed specs are accepted, stored and cancelled, but nothing ever runs
_GATEWAY = Gateway(backend=FakeBackend(), backend_name="inert", site="fuzz", jobs_root=_DB_DIR / "jobs")
APP = create_app(
    Settings(database_url=_DB_URL, env="test", data_dir=_DB_DIR, reconcile_seconds=0), clock=CLOCK, gateway=_GATEWAY
)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@dataclass
class FuzzWorld:
    uow_factory: SqlUnitOfWorkFactory

    def fresh_tokens(self) -> list[str]:
        """Restore the two users (active, original roles) and issue each a new token."""
        secrets = []
        with self.uow_factory() as uow:
            for email, roles in ROLES.items():
                user = uow.users.by_email(email)
                user.active = True
                for attr, value in roles.items():
                    setattr(user, attr, value)
                uow.flush()
                secrets.append(identity.create_token(uow, CLOCK, Actor(user), name="fuzz", ttl_days=1).secret)
        return secrets


@pytest.fixture(scope="module")
def fuzz_world(_sqlite_template) -> Iterator[FuzzWorld]:
    dbs.fresh_sqlite(_sqlite_template, _DB_DIR / "fuzz.db")
    engine = make_engine(_DB_URL)
    factory = SqlUnitOfWorkFactory(make_session_factory(engine))
    seed_demo(factory, CLOCK)
    yield FuzzWorld(factory)
    engine.dispose()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_no_operation_answers_with_a_server_error(case, fuzz_world: FuzzWorld):
    for token in fuzz_world.fresh_tokens():
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=[not_a_server_error])
