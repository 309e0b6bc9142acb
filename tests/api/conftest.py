"""The real app on a real database (SQLite and PostgreSQL), seeded with the demo factory through the services.

Demo state (aifactory.demo): bakery (Backhaus, lead; FZ Nord partner) auto-accepted on the playground with a
project; medvision under review (Schulz assigned); autonomia submitted to large scale; juelich a playground
draft; gridwise reviewed (Novák) and accepted on the fast lane.

The demo is seeded through the services once per test session (on SQLite); each test then gets the resulting
rows inserted into its own fresh database, SQLite or PostgreSQL (tests/services/test_demo.py seeds it through
the services on both databases)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from aifactory.api.app import create_app
from aifactory.config import Settings
from aifactory.demo import OPERATOR_EMAIL, DemoInfo, seed_demo
from aifactory.services.ports import FixedClock
from aifactory.store import tables
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory

from .. import dbs
from ..conftest import START

API = "/api/v1"
PROBLEM = "application/problem+json"
PEOPLE = {
    "operator": OPERATOR_EMAIL,
    "anna": "anna@backhaus-kiel.example",  # Backhaus Kiel (SME, DE): bakery, PI of its project
    "lars": "lars@fz-nord.example",  # Forschungszentrum Nord (academia, DE): bakery partner and member
    "claire": "claire@medvision.example",  # MedVision (startup, FR): medvision, under review
    "marco": "marco@autonomia.example",  # Autonomia (industry, IT): autonomia, submitted
    "eva": "eva@juelich.example",  # Stadt Jülich (public sector, DE): juelich, a draft
    "daan": "daan@gridwise.example",  # GridWise (startup, NL): gridwise, accepted
    "schulz": "rev.schulz@uni-bonn.example",  # reviewer of medvision
    "novak": "rev.novak@cuni.example",  # reviewer of gridwise
}


@dataclass
class Api:
    client: TestClient
    info: DemoInfo
    clock: FixedClock
    uow_factory: SqlUnitOfWorkFactory

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.info.tokens[PEOPLE[who]]}"}

    def request(self, method: str, path: str, who: str | None = None, **kw: Any):
        headers = {**(self.auth(who) if who else {}), **kw.pop("headers", {})}
        return self.client.request(method, API + path, headers=headers, **kw)

    def get(self, path: str, who: str | None = None, **kw: Any):
        return self.request("GET", path, who, **kw)

    def post(self, path: str, who: str | None = None, **kw: Any):
        return self.request("POST", path, who, **kw)

    def patch(self, path: str, who: str | None = None, **kw: Any):
        return self.request("PATCH", path, who, **kw)

    def delete(self, path: str, who: str | None = None, **kw: Any):
        return self.request("DELETE", path, who, **kw)

    def ok(self, method: str, path: str, who: str | None = None, status: int = 200, **kw: Any) -> Any:
        r = self.request(method, path, who, **kw)
        assert r.status_code == status, r.text
        return r.json() if r.content else None

    # ids of the demo
    def pid(self, key: str) -> int:
        return self.info.proposal_ids[key]

    def user_id(self, who: str) -> int:
        with self.uow_factory(write=False) as uow:
            return uow.users.by_email(PEOPLE[who]).id

    def project_of(self, key: str) -> int:
        with self.uow_factory(write=False) as uow:
            return uow.projects.by_proposal(self.pid(key)).id

    def counts(self) -> dict[str, int]:
        with self.uow_factory(write=False) as uow:
            return {
                name: uow.session.scalar(select(func.count()).select_from(t))
                for name, t in tables.metadata.tables.items()
            }


def assert_problem(r, status: int, *fields: str, detail: str | None = None) -> dict:
    """An RFC 9457 problem of this status; each named field appears in its errors."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if fields:
        named = {e["field"] for e in body.get("errors", [])}
        for f in fields:
            assert f in named or f in body["detail"], f"{f!r} not named in {body}"
    if detail:
        assert detail in body["detail"], body
    return body


Rows = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="session")
def _demo_rows(_sqlite_template, tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoInfo, Rows]:
    """The demo seeded through the services, and every row it wrote, table by table."""
    url = dbs.fresh_sqlite(_sqlite_template, tmp_path_factory.mktemp("demo") / "demo.db")
    engine = make_engine(url)
    try:
        info = seed_demo(SqlUnitOfWorkFactory(make_session_factory(engine)), FixedClock(START))
        with engine.connect() as conn:
            rows = {
                t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in tables.metadata.sorted_tables
            }
    finally:
        engine.dispose()
    return info, rows


def load_rows(uow_factory: SqlUnitOfWorkFactory, rows: Rows) -> None:
    """Insert the rows into an empty database; PostgreSQL's id sequences continue after them."""
    with uow_factory() as uow:
        for t in tables.metadata.sorted_tables:
            if rows[t.name]:
                uow.session.execute(t.insert(), rows[t.name])
        if uow.session.get_bind().dialect.name == "postgresql":
            for t in tables.metadata.sorted_tables:
                if "id" in t.c and rows[t.name]:
                    top = max(r["id"] for r in rows[t.name])
                    uow.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), {top})"))
        uow.commit()


@pytest.fixture
def api(database_url: str, uow_factory: SqlUnitOfWorkFactory, clock: FixedClock, _demo_rows, tmp_path) -> Api:
    """The app on the demo; jobs go to a local executor in tmp_path (the tests run the reconciler's passes)."""
    info, rows = _demo_rows
    load_rows(uow_factory, rows)
    settings = Settings(
        database_url=database_url, env="test", data_dir=tmp_path / "data", reconcile_seconds=0, gpu_slots=4
    )
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield Api(client, info, clock, uow_factory)
