"""A scheduler that cannot be reached: the API answers 503 problem+json with Retry-After and changes nothing.
(A cancel is the exception: it is stored and answered 202, see tests/services/test_runtime.py.)"""

from __future__ import annotations

import sys

import pytest

from aifactory.services.ports import BackendUnavailable
from tests.support.api import Api, assert_problem

SPEC = {"name": "wait", "project": 1, "command": [sys.executable, "-c", "import time; time.sleep(20)"]}


def _unreachable(*args: object, **kwargs: object) -> None:
    raise BackendUnavailable("slurmctld: Unable to contact slurm controller")


def test_logs_of_a_scheduler_that_cannot_be_reached_are_a_503(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = api.client.app.state.ctx.gateway.backend
    job = api.ok("POST", "/jobs", "anna", status=201, json=SPEC)
    monkeypatch.setattr(backend, "logs", _unreachable)
    assert_problem(api.get(f"/jobs/{job['id']}/logs", "anna"), 503, detail="Unable to contact")
    monkeypatch.undo()
    api.ok("POST", f"/jobs/{job['id']}/cancel", "anna")
