"""The composition root: the gateway built from settings, and the reconciler loop that survives bad passes."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from aifactory import runtime
from aifactory.backends.local import LocalBackend
from aifactory.backends.registry import BACKENDS
from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.config import Settings
from aifactory.runtime import Reconciler, build_gateway
from aifactory.services import jobs
from aifactory.services.ports import BackendUnavailable
from tests.fakes import FakeBackend
from tests.support.api import Api, settle


def test_gateway_from_settings(tmp_path: Path) -> None:
    local = build_gateway(Settings(data_dir=tmp_path, gpu_slots=2, site="jupiter"))
    assert isinstance(local.backend, LocalBackend) and local.backend.gpu_slots == 2
    assert local.jobs_root == tmp_path / "jobs" and local.site == "jupiter" and local.after_backend_submit is None
    assert not (tmp_path / "local-executor").exists()  # no I/O while building
    slurm = build_gateway(Settings(data_dir=tmp_path, backend="slurm", slurm_submit_user="svc", orphan_after_seconds=5))
    assert isinstance(slurm.backend, SlurmBackend) and slurm.submit_user == "svc"
    assert slurm.orphan_after.total_seconds() == 5


class OneFileBackend(FakeBackend):
    """A backend as a new site would add one: a class that builds itself from the settings."""

    @classmethod
    def from_settings(cls, settings: Settings) -> OneFileBackend:
        backend = cls()
        backend.refuse = f"not on {settings.site}"
        return backend


def test_a_new_backend_is_one_class_and_one_registry_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(BACKENDS, "memory", f"{__name__}:OneFileBackend")
    gw = build_gateway(Settings(data_dir=tmp_path, backend="memory", site="jupiter"))
    assert isinstance(gw.backend, OneFileBackend) and gw.backend.refuse == "not on jupiter"
    assert gw.backend_name == "memory"


def test_settings_refuse_unknown_backends_and_faults_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="backend"):
        Settings(backend="kubernetes")
    with pytest.raises(ValidationError, match="tests only"):
        Settings(env="production", secret_key="x" * 40, fault_injection="crash-after-backend-submit")
    with pytest.raises(ValidationError, match="site"):
        Settings(site="Has Spaces")


def test_the_reconciler_survives_failing_passes_and_stops(monkeypatch, tmp_path: Path) -> None:
    calls: list[int] = []
    ran_after_failure = threading.Event()

    def reconcile(uow_factory, clock, gw) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database is away")
        ran_after_failure.set()
        return 0

    monkeypatch.setattr(jobs, "reconcile", reconcile)
    monkeypatch.setattr(runtime, "accounting_pass", lambda *a, **k: None)  # their own tests elsewhere
    monkeypatch.setattr(Reconciler, "_notifications", lambda self: None)
    loop = Reconciler(None, None, build_gateway(Settings(data_dir=tmp_path)), interval=0.01)
    loop.start()
    assert ran_after_failure.wait(5), "the loop stopped after a failing pass"
    loop.stop()
    assert loop.failures == 1 and loop.passes >= 2
    seen = len(calls)
    time.sleep(0.1)
    assert len(calls) == seen  # stopped means stopped


def test_lifecycle_notifications_run_once_per_accounting_interval(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from aifactory.services import delivery, notifications
    from aifactory.services.accounting import AccountingState
    from aifactory.services.ports import FixedClock

    class Uow:
        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            return None

    lifecycle: list[datetime] = []
    delivered: list[datetime] = []
    clock = FixedClock(datetime(2026, 3, 2, tzinfo=UTC))
    monkeypatch.setattr(notifications, "note_lifecycle", lambda uow, c: lifecycle.append(c.now()))
    monkeypatch.setattr(notifications, "note_reviews", lambda uow, c: None)
    monkeypatch.setattr(delivery, "deliver_pending", lambda f, c, s, **kw: delivered.append(c.now()))
    loop = Reconciler(
        lambda **kw: Uow(),
        clock,
        build_gateway(Settings(data_dir=tmp_path)),
        interval=1,
        accounting=AccountingState(interval=timedelta(minutes=2)),
    )
    for _ in range(3):
        loop._notifications()
        loop.wait_for_delivery()  # delivery runs on a thread of its own
        clock.advance(seconds=30)
    clock.advance(minutes=2)
    loop._notifications()
    loop.wait_for_delivery()
    assert len(delivered) == 4 and len(lifecycle) == 2  # delivery every tick, expiry checks when due


class Kicks(list[str]):
    """Stands in for the reconciler thread: notes each kick."""

    def kick(self) -> None:
        self.append("kick")

    def stop(self) -> None:
        pass


def test_an_acceptance_kicks_the_reconciler_to_set_up_the_project_s_account(api: Api) -> None:
    kicks = api.client.app.state.ctx.reconciler = Kicks()
    assert api.ok("POST", f"/proposals/{api.pid('juelich')}/submit", "eva")["status"] == "accepted"  # at once
    assert kicks == ["kick"]
    review = {"scores": {"excellence": 4, "impact": 4, "feasibility": 4}, "declare_no_conflict": True}
    api.ok("POST", f"/proposals/{api.pid('medvision')}/reviews", "schulz", status=201, json=review)
    decided = api.ok("POST", f"/proposals/{api.pid('medvision')}/decision", "operator", json={"decision": "accept"})
    assert decided["status"] == "accepted" and kicks == ["kick", "kick"]


def test_a_pending_cancel_answers_202_and_kicks_the_reconciler(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = api.client.app.state.ctx
    kicks = ctx.reconciler = Kicks()
    sleeper = {"name": "wait", "project": 1, "command": [sys.executable, "-c", "import time; time.sleep(30)"]}
    job = api.ok("POST", "/jobs", "anna", status=201, json=sleeper)
    kicks.clear()

    def unreachable(ids: object) -> None:
        raise BackendUnavailable("slurmctld: Unable to contact slurm controller")

    monkeypatch.setattr(ctx.gateway.backend, "cancel", unreachable)
    pending = api.ok("POST", f"/jobs/{job['id']}/cancel", "anna", status=202)
    assert pending["state"] == "submitted" and pending["cancel_requested_at"] and kicks == ["kick"]
    monkeypatch.undo()
    assert settle(api, job["id"])["state"] == "cancelled"  # the reconciler carried it out
    assert api.ok("POST", f"/jobs/{job['id']}/cancel", "anna")["state"] == "cancelled"  # 200: nothing pending
