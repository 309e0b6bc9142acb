"""SlurmBackend against the real single-node cluster: provisioning, submit/status/cancel, arrays, time limits,
logs, usage and reconciliation by comment. Bounded polling only; no timing asserts."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.domain.jobs.execution import BackendJob, BackendStatus, ProjectAccount
from aifactory.domain.jobs.spec import parse_spec
from aifactory.domain.jobs.states import TERMINAL, JobState

pytestmark = pytest.mark.slurm
_ids = count(1000)


@pytest.fixture
def backend() -> SlurmBackend:
    return SlurmBackend()


@pytest.fixture
def make_job(tmp_path: Path, test_account: str):
    tmp_path.chmod(0o755)

    def make(account: str = test_account, **spec: Any) -> BackendJob:
        job_id = next(_ids)
        full = {"name": "t", "project": 1, "resources": {"time": 1}, **spec}
        return BackendJob(
            job_id=job_id,
            spec=parse_spec(full),
            account=account,
            partition="booster",
            job_dir=str(tmp_path / str(job_id)),
            comment=f"aif:test:{uuid.uuid4().hex}",
        )

    return make


def wait_for(
    backend: SlurmBackend, backend_id: str, states: frozenset[JobState] = TERMINAL, timeout: float = 60
) -> BackendStatus:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = backend.status([backend_id]).get(backend_id)
        if status is not None and status.state in states:
            return status
        time.sleep(0.5)
    pytest.fail(f"job {backend_id} not in {sorted(states)} within {timeout:.0f}s (last: {status})")


def test_ensure_project_then_a_job_with_that_account_runs(backend: SlurmBackend, make_job) -> None:
    account = f"aif-t{uuid.uuid4().hex[:10]}"
    try:
        backend.ensure_project(ProjectAccount(account, ("root",)))
        backend.ensure_project(ProjectAccount(account, ("root",)))  # idempotent
        assoc = subprocess.run(
            ["sacctmgr", "-nP", "show", "assoc", f"account={account}", "format=account,user"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.split()
        assert f"{account}|root" in assoc
        backend_id = backend.submit(make_job(account=account, command=["true"]))
        assert wait_for(backend, backend_id).state is JobState.COMPLETED
    finally:
        for argv in (["user", "root", f"account={account}"], ["account", account]):
            subprocess.run(["sacctmgr", "-i", "delete", *argv], capture_output=True, timeout=30)


def test_submit_runs_to_completed_with_exit_code_0(backend: SlurmBackend, make_job) -> None:
    job = make_job(command=["echo", "hello"])
    backend_id = backend.submit(job)
    seen = backend.status([backend_id])[backend_id].state
    assert seen in {JobState.QUEUED, JobState.RUNNING, JobState.COMPLETED}
    status = wait_for(backend, backend_id)
    assert (status.state, status.exit_code) == (JobState.COMPLETED, 0)
    assert (Path(job.job_dir) / "job.sbatch").exists()


def test_failing_command_is_failed_with_its_exit_code(backend: SlurmBackend, make_job) -> None:
    backend_id = backend.submit(make_job(script="echo about to fail >&2\nexit 3\n"))
    status = wait_for(backend, backend_id)
    assert (status.state, status.exit_code) == (JobState.FAILED, 3)


def test_array_of_three_is_aggregated(backend: SlurmBackend, make_job) -> None:
    job = make_job(command=["sh", "-c", 'echo "task $AIF_TASK_INDEX"'], array={"range": "0-2"})
    backend_id = backend.submit(job)
    status = wait_for(backend, backend_id)
    assert status.state is JobState.COMPLETED and status.exit_code == 0
    assert status.tasks == {0: JobState.COMPLETED, 1: JobState.COMPLETED, 2: JobState.COMPLETED}
    chunk = backend.logs(backend_id, job.job_dir, "stdout", task=2)
    assert chunk.data == b"task 2\n" and chunk.complete


def test_cancel(backend: SlurmBackend, make_job) -> None:
    backend_id = backend.submit(make_job(command=["sleep", "300"]))
    wait_for(backend, backend_id, {JobState.QUEUED, JobState.RUNNING})
    backend.cancel([backend_id])
    assert wait_for(backend, backend_id).state is JobState.CANCELLED


def test_logs_with_offsets(backend: SlurmBackend, make_job) -> None:
    job = make_job(script="echo line1\necho err >&2\necho line2\n")
    backend_id = backend.submit(job)
    wait_for(backend, backend_id)
    first = backend.logs(backend_id, job.job_dir, "stdout", 0, limit=4)
    assert (first.data, first.offset, first.complete) == (b"line", 4, False)
    rest = backend.logs(backend_id, job.job_dir, "stdout", first.offset)
    assert rest.data == b"1\nline2\n" and rest.offset == 12 and rest.complete
    assert backend.logs(backend_id, job.job_dir, "stdout", rest.offset).data == b""
    assert backend.logs(backend_id, job.job_dir, "stderr").data == b"err\n"


def test_usage_reports_one_gpu(backend: SlurmBackend, make_job) -> None:
    backend_id = backend.submit(
        make_job(command=[sys.executable, "-c", "print(1)"], resources={"gpus_per_node": 1, "time": 1})
    )
    wait_for(backend, backend_id)
    usage = backend.usage([backend_id])[backend_id]
    assert usage.gpus == 1 and usage.nodes == 1 and usage.cpus >= 1
    assert usage.elapsed_seconds >= 0 and usage.started_at and usage.ended_at


def test_find_by_comment(backend: SlurmBackend, make_job) -> None:
    job = make_job(command=["sleep", "300"])
    backend_id = backend.submit(job)
    try:
        assert backend.find_by_comment(job.comment) == backend_id
        assert backend.find_by_comment(f"aif:test:{uuid.uuid4().hex}") is None
    finally:
        backend.cancel([backend_id])


@pytest.mark.slow
def test_time_limit_gives_timeout(backend: SlurmBackend, make_job) -> None:
    backend_id = backend.submit(make_job(command=["sleep", "300"], resources={"time": 1}))
    assert wait_for(backend, backend_id, timeout=150).state is JobState.TIMEOUT
