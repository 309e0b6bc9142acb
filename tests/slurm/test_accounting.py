"""The ledger's Slurm calls against the real cluster: a GPU-minute limit holds back even a plain ``sbatch``,
finished jobs of any submitter are read with their GPUs, and low priority switches the QoS. Every test uses
a fresh account and removes it (and its jobs) afterwards. Bounded polling only."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.domain.jobs.execution import ExternalUsage, ProjectAccount

pytestmark = pytest.mark.slurm


def run(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{argv}: {result.stderr or result.stdout}"
    return result.stdout.strip()


def poll(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout:.0f}s")


def squeue(job_id: str, fmt: str) -> str:
    return run("squeue", "-h", "-j", job_id, "-o", fmt)


@pytest.fixture
def backend() -> SlurmBackend:
    return SlurmBackend()


@pytest.fixture
def account(backend: SlurmBackend) -> Iterator[str]:
    name = f"aif-acct-{uuid.uuid4().hex[:8]}"
    backend.ensure_project(ProjectAccount(name, ("root",)))
    yield name
    jobs = run("squeue", "-h", "-A", name, "-o", "%A").split()
    if jobs:
        subprocess.run(["scancel", *jobs], timeout=30, check=False)
        poll(lambda: not run("squeue", "-h", "-A", name, "-o", "%A"), 30, f"jobs of {name} gone")
    subprocess.run(
        ["sacctmgr", "-i", "delete", "account", f"name={name}"], capture_output=True, timeout=30, check=False
    )


def sbatch(account: str, *args: str) -> str:
    return run("sbatch", "--parsable", "--account", account, "-o", "/dev/null", *args).split(";")[0]


def test_a_gpu_minute_limit_holds_back_plain_sbatch_until_it_is_cleared(backend: SlurmBackend, account: str) -> None:
    assert backend.account_gpu_minutes_used(account) == 0  # a fresh account
    backend.set_budget_limit(account, 1)
    backend.set_budget_limit(account, 1)  # idempotent
    assoc = run("sacctmgr", "-nP", "show", "assoc", f"account={account}", "user=", "format=grptresmins")
    assert assoc == "gres/gpu=1"
    # slurmdbd hands the limit to slurmctld a moment after sacctmgr returns: wait until the controller has it
    poll(
        lambda: "gres/gpu=1(" in run("scontrol", "-o", "show", "assoc_mgr", "flags=assoc", f"accounts={account}"),
        20,
        "the limit in slurmctld",
    )
    job = sbatch(account, "--gres=gpu:1", "--time=5", "--wrap", "true")  # 5 GPU-minutes > 1
    held = ("PENDING AssocGrpGRESMinutes", "PENDING AssocGrpGRESRunMinutes")
    # first "None" or "Priority" while other tests' jobs are ahead of it; never running
    reason = poll(lambda: (r := squeue(job, "%T %r")) in held and r, 60, "held back by the GPU-minute limit")
    assert reason in held
    time.sleep(6)  # the main scheduler looks at it again (sched_interval=5): still held back
    assert squeue(job, "%T") == "PENDING"
    backend.set_budget_limit(account, None)
    assert run("sacctmgr", "-nP", "show", "assoc", f"account={account}", "user=", "format=grptresmins") == ""
    state = poll(
        lambda: run("sacct", "-n", "-X", "-P", "-j", job, "-o", "State") in ("COMPLETED",) and "done",
        60,
        f"job {job} completed once the limit was cleared",
    )
    assert state == "done"


def test_finished_jobs_shows_a_direct_sbatch_with_its_gpus_and_comment(backend: SlurmBackend, account: str) -> None:
    since = time.time() - 2
    comment = f"direct-{uuid.uuid4().hex[:6]}"
    job = sbatch(account, "--gres=gpu:2", "--time=1", "--comment", comment, "--wrap", "sleep 2")

    def mine() -> ExternalUsage | None:
        return next((u for u in backend.finished_jobs([account], since) if u.backend_id == job), None)

    usage = poll(mine, 60, f"job {job} in finished_jobs")
    assert usage.gpus == 2 and usage.elapsed_seconds >= 1 and usage.comment == comment
    assert (usage.account, usage.user, usage.partition) == (account, "root", "booster")
    assert usage.state.value == "completed" and usage.time_limit_seconds == 60
    assert usage.start is not None and usage.end is not None and usage.end >= usage.start >= since - 1
    assert usage.nodes == 1 and usage.cpus >= 1 and usage.memory_mb > 0
    assert backend.finished_jobs([account], time.time() + 3600) == []  # nothing finished in the future


def sbatch_with_qos(account: str, qos: str, *args: str) -> str:
    """slurmdbd hands a QoS change to slurmctld a moment after sacctmgr returns: submit until a job gets
    ``qos`` (bounded), cancelling the probes that came too early."""
    deadline = time.monotonic() + 20
    while True:
        job = sbatch(account, *args)
        if squeue(job, "%q") == qos or time.monotonic() > deadline:
            return job
        subprocess.run(["scancel", job], timeout=30, check=False)
        time.sleep(0.5)


def test_low_priority_switches_the_default_qos_and_ranks_jobs_last(
    backend: SlurmBackend, account: str, test_account: str
) -> None:
    def qos_of_assoc() -> str:
        return run("sacctmgr", "-nP", "show", "assoc", f"account={account}", "user=root", "format=qos,defaultqos")

    later = "--begin=now+1hour"  # pending, with a computed priority, never started
    backend.set_low_priority(account, True)
    backend.set_low_priority(account, True)  # idempotent
    assert qos_of_assoc() == "low|low"
    low_job = sbatch_with_qos(account, "low", "--time=1", later, "--wrap", "true")
    normal_job = sbatch(test_account, "--time=1", later, "--wrap", "true")
    try:
        assert squeue(low_job, "%q") == "low"
        refused = subprocess.run(
            ["sbatch", "--account", account, "--qos=normal", "-o", "/dev/null", "--wrap", "true"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert refused.returncode != 0 and "qos" in refused.stderr.lower()  # no way around it with sbatch
        low_prio, normal_prio = (int(squeue(j, "%Q")) for j in (low_job, normal_job))
        assert low_prio < normal_prio
    finally:
        subprocess.run(["scancel", normal_job], timeout=30, check=False)
    backend.set_low_priority(account, False)
    assert qos_of_assoc() == "low,normal|normal"
    assert squeue(sbatch_with_qos(account, "normal", "--time=1", later, "--wrap", "true"), "%q") == "normal"
