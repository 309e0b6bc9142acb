"""The JSON API in the tests: a client on the demo (``Api``), problem+json checks, and the reconciler run until
a job is final."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from aifactory.demo import DemoInfo
from aifactory.services import jobs
from aifactory.services.ports import FixedClock
from aifactory.store import tables
from aifactory.store.uow import SqlUnitOfWorkFactory

from .demo import PEOPLE

API = "/api/v1"
PROBLEM = "application/problem+json"
FINAL_STATES = ("completed", "failed", "cancelled", "timeout")


@dataclass
class Api:
    """The app on the demo; ``who`` names a demo person (a key of PEOPLE) whose token is sent."""

    client: TestClient
    info: DemoInfo
    clock: FixedClock
    uow_factory: SqlUnitOfWorkFactory

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.info.tokens[PEOPLE[who]]}"}

    def request(self, method: str, path: str, who: str | None = None, **kw: Any) -> Response:
        headers = {**(self.auth(who) if who else {}), **kw.pop("headers", {})}
        return self.client.request(method, API + path, headers=headers, **kw)

    def get(self, path: str, who: str | None = None, **kw: Any) -> Response:
        return self.request("GET", path, who, **kw)

    def post(self, path: str, who: str | None = None, **kw: Any) -> Response:
        return self.request("POST", path, who, **kw)

    def patch(self, path: str, who: str | None = None, **kw: Any) -> Response:
        return self.request("PATCH", path, who, **kw)

    def delete(self, path: str, who: str | None = None, **kw: Any) -> Response:
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


def assert_problem(r: Response, status: int, *fields: str, detail: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem of this status; each named field appears in its errors."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
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


def settle(api: Api, job_id: int, timeout: float = 20) -> dict[str, Any]:
    """Run the reconciler's passes until the job is final (or ``timeout`` s passed); the job as anna sees it."""
    gw = api.client.app.state.ctx.gateway
    deadline = time.monotonic() + timeout
    while True:
        jobs.reconcile(api.uow_factory, api.clock, gw)
        job: dict[str, Any] = api.ok("GET", f"/jobs/{job_id}", "anna")
        if job["state"] in FINAL_STATES or time.monotonic() > deadline:
            return job
        time.sleep(0.1)
