"""The database goes away: the API answers 503 problem+json with Retry-After and the portal a readable 503 page,
each failure is logged once (one line, no traceback), /health keeps answering, a submission that got an error
answer either created no job or names the one it stored, and everything works again once the database is back.

Against the real PostgreSQL behind a TCP proxy that the test cuts (connections dropped, port closed) and
restores, and against a SQLite file that cannot be opened."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from aifactory.config import Settings
from aifactory.services import jobs
from aifactory.services.ports import FixedClock
from aifactory.store import tables
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.migrate import upgrade
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeBackend
from tests.support import dbs
from tests.support.api import API, assert_problem
from tests.support.clock import START
from tests.support.demo import PEOPLE, DemoSnapshot, load_rows
from tests.support.tcp_proxy import TcpProxy, proxy_to

SPEC = {"name": "j", "project": 1, "command": ["true"], "resources": {"time": 5}}


@dataclass
class Outage:
    client: TestClient
    proxy: TcpProxy
    direct: SqlUnitOfWorkFactory  # to the database itself, past the proxy
    backend: FakeBackend
    tokens: dict[str, str]

    def auth(self, who: str = "anna") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[PEOPLE[who]]}"}

    def job_count(self) -> int:
        with self.direct(write=False) as uow:
            return int(uow.session.scalar(select(func.count()).select_from(tables.jobs)))


@pytest.fixture
def outage(demo_snapshot: DemoSnapshot, tmp_path: Path, worker_id: str) -> Iterator[Outage]:
    dbs.skip_or_fail_without_pg()
    name = f"aifactory_outage_{os.getpid()}_{worker_id}"
    url = dbs.create_pg_database(name)
    upgrade(url)
    engine = make_engine(url)
    direct = SqlUnitOfWorkFactory(make_session_factory(engine))
    load_rows(direct, demo_snapshot.rows)
    real = make_url(url)
    with proxy_to(real.host or "127.0.0.1", real.port or 5432) as proxy:
        through = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        backend = FakeBackend()
        gateway = jobs.Gateway(backend=backend, backend_name="fake", site="local", jobs_root=tmp_path / "jobs")
        settings = Settings(database_url=through, env="test", data_dir=tmp_path / "data", reconcile_seconds=0)
        from aifactory.api.app import create_app

        app = create_app(settings, clock=FixedClock(START), gateway=gateway)
        with TestClient(app) as client:
            yield Outage(client, proxy, direct, backend, demo_snapshot.info.tokens)
    engine.dispose()
    dbs.drop_pg_database(name)


def _one_line_each(records: list[logging.LogRecord]) -> None:
    mine = [r for r in records if r.name.startswith("aifactory") and r.levelno >= logging.WARNING]
    assert len(mine) == 1, [r.getMessage() for r in mine]
    assert mine[0].exc_info is None and "database unavailable" in mine[0].getMessage()
    assert not any(r.exc_info for r in records)  # no traceback from anyone


@pytest.mark.postgres
def test_an_unreachable_database_is_a_503_logged_once_and_recovers(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    c = outage.client
    assert c.get(f"{API}/projects", headers=outage.auth()).status_code == 200  # the pool holds connections now
    outage.proxy.cut()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        r = c.get(f"{API}/projects", headers=outage.auth())
    assert_problem(r, 503, detail="database")
    assert int(r.headers["retry-after"]) > 0
    _one_line_each(caplog.records)
    assert c.get(f"{API}/health").json() == {"status": "ok"}  # needs no database

    caplog.clear()
    with caplog.at_level(logging.INFO):
        c.cookies.set("aif_session", "x" * 43)  # a signed-in browser: its session is looked up first
        page = c.get("/projects")
        c.cookies.clear()
    assert page.status_code == 503 and "text/html" in page.headers["content-type"]
    assert "database cannot be reached" in page.text and int(page.headers["retry-after"]) > 0
    _one_line_each(caplog.records)

    outage.proxy.restore()
    assert c.get(f"{API}/projects", headers=outage.auth()).status_code == 200


@pytest.mark.postgres
def test_a_submission_while_the_database_is_away_creates_no_job(outage: Outage) -> None:
    before = outage.job_count()
    outage.proxy.cut()
    assert_problem(outage.client.post(f"{API}/jobs", headers=outage.auth(), json=SPEC), 503)
    outage.proxy.restore()
    assert outage.job_count() == before and outage.backend.jobs == {}


@pytest.mark.postgres
def test_a_submission_the_database_left_halfway_names_its_job(outage: Outage) -> None:
    """The job is stored and handed to the backend; then the database goes: the answer carries the job's id,
    and the job is there (pending, to be adopted by its comment) once the database is back."""
    gw = outage.client.app.state.ctx.gateway
    object.__setattr__(gw, "after_backend_submit", outage.proxy.cut)
    r = outage.client.post(f"{API}/jobs", headers=outage.auth(), json=SPEC)
    body = assert_problem(r, 503)
    job_id = body["job_id"]
    assert r.headers["location"].endswith(f"/jobs/{job_id}") and str(job_id) in body["detail"]
    object.__setattr__(gw, "after_backend_submit", None)
    outage.proxy.restore()
    job = outage.client.get(f"{API}/jobs/{job_id}", headers=outage.auth()).json()
    assert job["state"] == "pending" and job["backend_id"] is None
    (handed,) = outage.backend.jobs.values()
    assert handed.job_id == job_id  # the reconciler adopts it by its comment (tests/crash cover that part)


def test_a_sqlite_database_that_cannot_be_opened_is_a_503(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from aifactory.api.app import create_app

    gone = tmp_path / "no-such-folder" / "aifactory.db"
    settings = Settings(database_url=f"sqlite:///{gone}", env="test", data_dir=tmp_path, reconcile_seconds=0)
    with TestClient(create_app(settings)) as client:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            r = client.get(f"{API}/projects", headers={"Authorization": "Bearer aif_" + "x" * 43})
        assert_problem(r, 503, detail="database")
        _one_line_each(caplog.records)
        page = client.get("/")
        assert page.status_code == 503 and "database cannot be reached" in page.text
