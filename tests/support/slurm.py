"""The real single-node Slurm cluster in the tests (``scripts/slurm-dev-cluster start``): whether it answers,
its commands, a job's accounting record, and the gateway on it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aifactory.services import jobs
from aifactory.services.ports import FixedClock
from aifactory.store.uow import SqlUnitOfWorkFactory

from .api import FINAL_STATES

START_COMMAND = "scripts/slurm-dev-cluster start"
FINAL = {
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
}
UP = {"idle", "mixed", "allocated", "completing"}


def slurm_unavailable() -> str | None:
    """None when the controller answers and a node is up, else the reason."""
    if shutil.which("scontrol") is None or shutil.which("sinfo") is None:
        return "Slurm client commands are not installed"
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=15)
        if ping.returncode != 0 or "is UP" not in ping.stdout:
            said = (ping.stdout + ping.stderr).strip().splitlines()
            return (
                f"the Slurm controller does not answer ({said[0] if said else f'scontrol ping: rc={ping.returncode}'})"
            )
        states = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired as exc:
        return f"Slurm did not answer within {exc.timeout:.0f}s ({' '.join(exc.cmd)})"
    # a trailing "*" means "not responding": that node is not up
    if not any(s.strip().rstrip("~#!%$@^-") in UP for s in states.stdout.split()):
        return f"no Slurm node is up (sinfo: {states.stdout.strip() or states.stderr.strip()})"
    return None


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=check)


def sacct_job(job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The job's sacct record once it reached a final state (sacct --json honours -j)."""
    deadline = time.monotonic() + timeout
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        found = json.loads(run("sacct", "--json", "-j", job_id).stdout)["jobs"]
        record = next((j for j in found if str(j["job_id"]) == job_id), {})
        if record.get("state", {}).get("current") in FINAL:
            return record
        time.sleep(0.5)
    pytest.fail(f"job {job_id} did not finish within {timeout:.0f}s (last sacct state: {record.get('state')})")


@dataclass
class SlurmGateway:
    """The API with AIFACTORY_BACKEND=slurm on the demo, its client signed in as anna (the bakery's PI)."""

    client: TestClient
    factory: SqlUnitOfWorkFactory
    clock: FixedClock

    def settle(self, job_id: int, timeout: float = 90) -> dict[str, Any]:
        """Run the reconciler's passes until the job is final (or ``timeout`` s passed); the job."""
        gw = self.client.app.state.ctx.gateway
        deadline = time.monotonic() + timeout
        while True:
            jobs.reconcile(self.factory, self.clock, gw)
            job: dict[str, Any] = self.client.get(f"/api/v1/jobs/{job_id}").json()
            if job["state"] in FINAL_STATES or time.monotonic() > deadline:
                return job
            time.sleep(0.5)


@dataclass
class OwnerGateway(SlurmGateway):
    """The gateway on the cluster with POSIX identities (the local provisioner): every person's jobs run as
    their own user. ``as_(who)`` signs the client in as that demo person; ``data_dir`` is reachable by jobs."""

    tokens: dict[str, str]
    data_dir: Path

    def as_(self, email: str) -> TestClient:
        self.client.headers["Authorization"] = f"Bearer {self.tokens[email]}"
        return self.client


def scontrol_job(backend_id: str) -> dict[str, str]:
    """``scontrol -o show job``'s fields (UserId=name(uid), GroupId=name(gid), ...)."""
    line = run("scontrol", "-o", "show", "job", backend_id).stdout
    return dict(word.split("=", 1) for word in line.split() if "=" in word)
