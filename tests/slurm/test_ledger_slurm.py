"""The ledger on the real cluster: a gateway job is charged what slurmdbd measured (sacct, gres/gpu), a job
submitted with plain ``sbatch`` under the project's account is found and charged as usage outside the
gateway, and the account carries a GPU-minute limit derived from the ledger (sacctmgr)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from aifactory.services import accounting, jobs
from aifactory.services.accounting import AccountingState
from aifactory.services.context import Actor
from tests.support.slurm import SlurmGateway

pytestmark = pytest.mark.slurm


def _wait(check, timeout: float = 60, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every)
    raise AssertionError("not reached in time")


def test_gateway_job_charged_from_sacct_outside_job_found_and_limit_set(gateway_api: SlurmGateway) -> None:
    client, factory, clock = gateway_api.client, gateway_api.factory, gateway_api.clock
    gw = client.app.state.ctx.gateway
    clock.at = datetime.now(UTC)  # slurmdbd's times are real: so is the ledger's clock here
    with factory() as uow:  # and the bakery's allocation runs now
        alloc = uow.allocations.get(1)
        alloc.start_date, alloc.end_date = clock.at.date() - timedelta(days=1), clock.at.date() + timedelta(days=60)
        uow.commit()
    spec = {
        "name": "gpu-sleep",
        "project": 1,
        "resource": "booster",
        "command": [sys.executable, "-c", "import time; time.sleep(3)"],
        "resources": {"gpus_per_node": 2, "time": 5},
    }
    with factory(write=False) as uow:  # the use cases directly: the demo's tokens expire in the real now
        account = uow.projects.get(1).slurm_account
        anna = Actor(uow.users.by_email("anna@backhaus-kiel.example"))
    job = {"id": jobs.submit_job(factory, clock, anna, gw, spec).id}

    def charged() -> list:  # runs, finishes; sacct may need a moment more for its elapsed time
        clock.at = datetime.now(UTC)
        jobs.reconcile(factory, clock, gw)
        with factory(write=False) as uow:
            return [e for e in uow.ledger.for_job(job["id"]) if e.kind.value == "charge"]

    charge = _wait(charged)[0]
    assert charge.gpu_seconds >= 2 * 3 and charge.amount == charge.gpu_seconds  # 2 GPUs x >= 3 s, weight 1

    outside = (
        subprocess.run(
            [
                "sbatch",
                "--parsable",
                f"--account={account}",
                "--partition=booster",
                "--gres=gpu:1",
                "--time=2",
                "--output=/dev/null",
                "--wrap",
                "sleep 2",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .split(";")[0]
    )
    state = AccountingState()

    def imported() -> bool:
        accounting.import_external(factory, clock, gw, state)
        with factory(write=False) as uow:
            return uow.ledger.by_key(f"external:slurmtest:{outside}") is not None

    _wait(imported, timeout=90, every=2)
    with factory(write=False) as uow:
        entry = uow.ledger.by_key(f"external:slurmtest:{outside}")
        assert entry.source == "slurm-external" and entry.gpu_seconds >= 2 and entry.allocation_id == 1
        left = uow.allocations.get(1).granted_seconds - uow.allocations.get(1).charged_seconds

    limits = accounting.sync_limits(factory, clock, gw, AccountingState())
    assert account in limits and limits[account] >= left // 60
    shown = subprocess.run(
        ["sacctmgr", "-nP", "show", "assoc", f"account={account}", "format=account,user,grptresmins"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"gres/gpu={limits[account]}" in shown, shown
