"""A scheduler that cannot be reached: the API answers 503 problem+json with Retry-After and changes nothing."""

from __future__ import annotations

import sys

import pytest

from aifactory.services.ports import BackendUnavailable
from tests.support.api import Api, assert_problem

SPEC = {"name": "wait", "project": 1, "command": [sys.executable, "-c", "import time; time.sleep(20)"]}


def _unreachable(*args: object, **kwargs: object) -> None:
    raise BackendUnavailable("slurmctld: Unable to contact slurm controller")


def test_a_cancel_the_scheduler_cannot_take_is_503_and_the_job_stays(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = api.client.app.state.ctx.gateway.backend
    job = api.ok("POST", "/jobs", "anna", status=201, json=SPEC)
    monkeypatch.setattr(backend, "cancel", _unreachable)
    r = api.post(f"/jobs/{job['id']}/cancel", "anna")
    body = assert_problem(r, 503, detail="Unable to contact slurm controller")
    assert body["title"] == "Service unavailable" and int(r.headers["retry-after"]) > 0
    assert api.ok("GET", f"/jobs/{job['id']}", "anna")["state"] == "submitted"
    monkeypatch.undo()
    assert api.ok("POST", f"/jobs/{job['id']}/cancel", "anna")["state"] == "cancelled"


def test_logs_of_a_scheduler_that_cannot_be_reached_are_a_503(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = api.client.app.state.ctx.gateway.backend
    job = api.ok("POST", "/jobs", "anna", status=201, json=SPEC)
    monkeypatch.setattr(backend, "logs", _unreachable)
    assert_problem(api.get(f"/jobs/{job['id']}/logs", "anna"), 503, detail="Unable to contact")
    monkeypatch.undo()
    api.ok("POST", f"/jobs/{job['id']}/cancel", "anna")
