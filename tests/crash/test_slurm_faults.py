"""Slurm faults on the real dev cluster: budget limits from the moment a proposal is accepted, a cancel after an
interrupted submission, a cancel while slurmctld is down, and the quick recovery of submissions that failed
during an outage. The tests that stop slurmctld hold the cluster alone (``tests.support.slurm_outage``) and
start it again whatever happens. Bounded polling only."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from aifactory.api.app import create_app
from aifactory.config import Settings
from aifactory.runtime import Reconciler
from aifactory.services import jobs
from aifactory.services.context import Actor
from aifactory.services.ports import BackendUnavailable, FixedClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support import dbs
from tests.support.demo import PEOPLE, DemoSnapshot, load_rows
from tests.support.slurm import SlurmGateway, slurm_unavailable
from tests.support.slurm_outage import Controller, outage

pytestmark = [pytest.mark.slurm, pytest.mark.slow]
T = TypeVar("T")
SLEEPER = {
    "name": "sleeper",
    "project": 1,
    "command": [sys.executable, "-c", "import time; time.sleep(300)"],
    "resources": {"gpus_per_node": 1, "time": 10},
}


def poll(check: Callable[[], T], what: str, timeout: float = 60) -> T:
    deadline = time.monotonic() + timeout
    while True:
        if value := check():
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.5)


def run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout.strip()


@pytest.fixture
def on_slurm(
    _sqlite_template: Path, demo_snapshot: DemoSnapshot, tmp_path: Path, clock: FixedClock
) -> Iterator[SlurmGateway]:
    """The API with AIFACTORY_BACKEND=slurm on the demo (the reconciler off: the tests run its passes), signed
    in as anna; every Slurm job of its site is cancelled afterwards."""
    if reason := slurm_unavailable():
        if os.environ.get("AIFACTORY_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    url = dbs.fresh_sqlite(_sqlite_template, tmp_path / "faults.db")
    engine = make_engine(url)
    factory = SqlUnitOfWorkFactory(make_session_factory(engine))
    load_rows(factory, demo_snapshot.rows)
    tmp_path.chmod(0o755)
    site = f"faults{uuid.uuid4().hex[:6]}"
    settings = Settings(
        database_url=url, env="test", data_dir=tmp_path / "data", backend="slurm", reconcile_seconds=0, site=site
    )
    try:
        with TestClient(create_app(settings, clock=clock)) as client:
            client.headers["Authorization"] = f"Bearer {demo_snapshot.info.tokens[PEOPLE['anna']]}"
            yield SlurmGateway(client, factory, clock)
    finally:
        engine.dispose()
        mine = [line.split()[0] for line in run("squeue", "-h", "-o", "%i %k").splitlines() if f"aif:{site}:" in line]
        if mine:
            subprocess.run(["scancel", *mine], timeout=60, check=False)


@pytest.fixture
def slurmctld_outage() -> Iterator[Controller]:
    with outage() as controller:
        yield controller


def _as(demo: DemoSnapshot, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo.info.tokens[PEOPLE[who]]}"}


def _job(g: SlurmGateway, job_id: int) -> dict[str, Any]:
    r = g.client.get(f"/api/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _slurm_state(backend_id: str) -> str:
    """The job's state as Slurm has it (the queue while it is there, else accounting)."""
    queued = run("squeue", "-h", "-j", backend_id, "-o", "%T") if backend_id else ""
    return queued or run("sacct", "-n", "-X", "-P", "-j", backend_id, "-o", "State").split(" ")[0]


def _settled(g: SlurmGateway, job_id: int) -> dict[str, Any]:
    """Reconcile until the job is charged (the settlement waits for slurmdbd's record of it)."""

    def charged() -> dict[str, Any] | None:
        jobs.reconcile(g.factory, g.clock, g.client.app.state.ctx.gateway)
        with g.factory(write=False) as uow:
            job = uow.jobs.get(job_id)
            charges = [e for e in uow.ledger.for_job(job_id) if e.kind.value == "charge"]
            return {"job": job, "charged": sum(e.gpu_seconds for e in charges)} if job.settled_at else None

    return poll(charged, f"job {job_id} settled", timeout=90)


def _running(g: SlurmGateway, job_id: int) -> str:
    def started() -> str | None:
        jobs.reconcile(g.factory, g.clock, g.client.app.state.ctx.gateway)
        job = _job(g, job_id)
        return job["backend_id"] if job["state"] == "running" else None

    return poll(started, f"job {job_id} running")


def test_an_accepted_project_has_its_account_and_limit_before_any_job_and_plain_sbatch_is_held(
    on_slurm: SlurmGateway, demo_snapshot: DemoSnapshot
) -> None:
    ctx = on_slurm.client.app.state.ctx
    reconciler = Reconciler(on_slurm.factory, on_slurm.clock, ctx.gateway, interval=3600)  # runs only when kicked
    reconciler.start()
    ctx.reconciler = reconciler
    pid = demo_snapshot.info.proposal_ids["juelich"]
    try:
        poll(lambda: reconciler.passes >= 1, "the reconciler's first pass")
        eva = _as(demo_snapshot, "eva")
        r = on_slurm.client.patch(f"/api/v1/proposals/{pid}", json={"requested_gpu_hours": 1}, headers=eva)
        assert r.status_code == 200, r.text
        r = on_slurm.client.post(f"/api/v1/proposals/{pid}/submit", headers=eva)  # accepted at once; kicks
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
        with on_slurm.factory(write=False) as uow:
            account = uow.projects.by_proposal(pid).slurm_account
            assert uow.jobs.open_jobs() == []  # no job anywhere: the acceptance alone did it
        _plain_sbatch_over_the_budget_is_held(account)
    finally:
        reconciler.stop()
        for told in reconciler.accounting.limits:  # the demo's other accounts: as they were
            subprocess.run(
                ["sacctmgr", "-i", "modify", "account", f"name={told}", "set", "GrpTRESMins=gres/gpu=-1"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        with on_slurm.factory(write=False) as uow:
            if (project := uow.projects.by_proposal(pid)) is not None:
                subprocess.run(
                    ["sacctmgr", "-i", "delete", "account", f"name={project.slurm_account}"],
                    capture_output=True,
                    timeout=60,
                    check=False,
                )


def _plain_sbatch_over_the_budget_is_held(account: str) -> None:
    """1 GPU-hour granted: the account's limit is 60 GPU-minutes, in slurmdbd and in slurmctld; a direct
    ``sbatch`` of 4 GPUs for 120 minutes (8 GPU-hours in the worst case) is refused or stays pending."""

    def limit() -> str:
        return run("sacctmgr", "-nP", "show", "assoc", f"account={account}", "user=", "format=grptresmins")

    assert poll(lambda: limit() == "gres/gpu=60" and limit(), "the account's GPU-minute limit") == "gres/gpu=60"
    poll(
        lambda: "gres/gpu=60(" in run("scontrol", "-o", "show", "assoc_mgr", "flags=assoc", f"accounts={account}"),
        "the limit in slurmctld",
    )
    argv = ["sbatch", "--parsable", "-A", account, "-p", "develop", "--gres=gpu:4", "--time=120", "-o", "/dev/null"]
    sbatch = subprocess.run([*argv, "--wrap", "true"], capture_output=True, text=True, timeout=60)
    if sbatch.returncode != 0:  # refused outright
        assert "AssocGrp" in sbatch.stderr or "accounting/QOS policy" in sbatch.stderr, sbatch.stderr
        return
    held = sbatch.stdout.strip().split(";")[0]
    try:
        reason = poll(lambda: "AssocGrp" in (r := run("squeue", "-h", "-j", held, "-o", "%r")) and r, "held back")
        assert reason.startswith("AssocGrpGRES") and run("squeue", "-h", "-j", held, "-o", "%T") == "PENDING"
    finally:
        subprocess.run(["scancel", held], timeout=60, check=False)


def test_a_cancel_after_an_interrupted_submission_stops_the_slurm_job_and_charges_what_ran(
    on_slurm: SlurmGateway,
) -> None:
    gw = on_slurm.client.app.state.ctx.gateway

    def crash() -> None:
        raise SystemExit("killed between 'sbatch returned' and 'its id is stored'")

    with on_slurm.factory(write=False) as uow:
        anna = Actor(uow.users.by_email(PEOPLE["anna"]))
    interrupted = dataclasses.replace(gw, after_backend_submit=crash)
    with pytest.raises(SystemExit):
        jobs.submit_job(on_slurm.factory, on_slurm.clock, anna, interrupted, SLEEPER)
    with on_slurm.factory(write=False) as uow:
        job = uow.jobs.open_jobs()[0]
        assert job.backend_id is None
    found = poll(lambda: gw.backend.find_by_comment(job.comment), "the Slurm job by its comment")
    poll(lambda: _slurm_state(found) == "RUNNING", "the Slurm job running")
    r = on_slurm.client.post(f"/api/v1/jobs/{job.id}/cancel")
    assert r.status_code == 202 and r.json()["cancel_requested_at"] and r.json()["state"] == "pending", r.text
    time.sleep(2)  # it runs on: the cancel is not answered "cancelled" while Slurm still runs it
    on_slurm.clock.advance(minutes=3)  # past the window in which its hand-over might still be under way
    outcome = _settled(on_slurm, job.id)
    assert outcome["job"].state.value == "cancelled" and outcome["job"].backend_id == found
    assert poll(lambda: _slurm_state(found).startswith("CANCELLED") and "yes", "cancelled in Slurm") == "yes"
    assert outcome["charged"] >= 2  # 1 GPU for the seconds it ran


def test_a_cancel_while_slurmctld_is_down_is_202_and_carried_out_when_it_is_back(
    on_slurm: SlurmGateway, slurmctld_outage: Controller
) -> None:
    job = on_slurm.client.post("/api/v1/jobs", json=SLEEPER).json()
    backend_id = _running(on_slurm, job["id"])
    slurmctld_outage.stop()
    r = on_slurm.client.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "running" and r.json()["cancel_requested_at"]
    with contextlib.suppress(BackendUnavailable):  # squeue fails; sacct (slurmdbd is up) may still answer
        jobs.reconcile(on_slurm.factory, on_slurm.clock, on_slurm.client.app.state.ctx.gateway)
    assert _job(on_slurm, job["id"])["state"] == "running"  # not dropped, not pretended
    slurmctld_outage.start()
    outcome = _settled(on_slurm, job["id"])
    assert outcome["job"].state.value == "cancelled" and outcome["charged"] >= 1
    assert poll(lambda: _slurm_state(backend_id).startswith("CANCELLED") and "yes", "cancelled in Slurm") == "yes"


def test_submissions_that_failed_during_an_outage_go_through_on_the_next_cycle(
    on_slurm: SlurmGateway, slurmctld_outage: Controller
) -> None:
    gw = on_slurm.client.app.state.ctx.gateway
    with on_slurm.factory(write=False) as uow:
        gw.provision_account(uow.projects.get(1).slurm_account)  # provisioned before: only sbatch meets the outage
    slurmctld_outage.stop()
    r = on_slurm.client.post("/api/v1/jobs", json={**SLEEPER, "command": ["true"]})
    assert r.status_code == 201, r.text
    pending = r.json()
    assert pending["state"] == "pending" and pending["submit_attempts"] == 1 and "did not answer" in pending["reason"]
    slurmctld_outage.start()
    on_slurm.clock.advance(seconds=1)  # its backoff: the reconciler's next cycle
    assert on_slurm.clock.now() < datetime.fromisoformat(pending["created_at"]) + gw.orphan_after  # no orphan yet
    jobs.reconcile(on_slurm.factory, on_slurm.clock, gw)
    job = _job(on_slurm, pending["id"])
    assert job["backend_id"] and job["state"] != "pending" and job["reason"] == "" and job["next_attempt_at"] is None
    assert on_slurm.settle(pending["id"])["state"] == "completed"
