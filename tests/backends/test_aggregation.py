"""One job-state rule: the same task outcomes make the same job state and exit code on the local and the Slurm
backend (``domain.jobs.states.aggregate``), so the settlement bills them the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aifactory.backends.local_files import Final, JobMeta, TaskFiles
from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.domain.jobs.execution import BackendStatus
from aifactory.domain.jobs.states import OUTCOME_PRECEDENCE, JobState, aggregate, aggregate_exit_code
from aifactory.domain.ledger import settle
from tests.support.local_jobs import make, private
from tests.support.slurm_runner import FakeRunner

C, F, T, X = JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT, JobState.CANCELLED
CODES = {C: 0, F: 3, T: 143, X: 143}  # killed by SIGTERM: 128 + 15
SLURM_NAMES = {C: "COMPLETED", F: "FAILED", T: "TIMEOUT", X: "CANCELLED"}
LIMIT = 1800  # each task's time limit, in seconds


def local_status(root: Path, tasks: list[JobState]) -> BackendStatus:
    """A finished local array, its tasks settled as given (written as the backend writes them)."""
    job_dir, state_dir = root / "jobs" / "5", private(root, 5)
    job_dir.mkdir(parents=True)
    state_dir.mkdir(parents=True)
    meta = JobMeta("local-5", 5, "aif:test:5", str(job_dir), "sweep", tuple(range(len(tasks))), None, 0, 30, "p7", 0.0)
    (state_dir / "job.json").write_text(meta.to_json())
    for i, state in enumerate(tasks):
        TaskFiles(state_dir, job_dir, i).write_final(Final(state, CODES[state], ended_at=100.0))
    backend = make(root)
    (backend.root / "jobs").mkdir(parents=True)
    (backend.root / "jobs" / "local-5").write_text(str(job_dir))
    return backend.status(["local-5"])["local-5"]


def slurm_status(tasks: list[JobState]) -> BackendStatus:
    """The same array as squeue shows it (exit codes as wait statuses)."""

    def wait_status(code: int) -> int:
        return code - 128 if code >= 128 else code << 8

    records = [
        {
            "job_id": 100 + i,
            "job_state": SLURM_NAMES[state],
            "array_job_id": 100,
            "array_task_id": i,
            "exit_code": wait_status(CODES[state]),
        }
        for i, state in enumerate(tasks)
    ]
    runner = FakeRunner(squeue=json.dumps({"jobs": records}), sacct='{"jobs": []}')
    return SlurmBackend(runner).status(["100"])["100"]


def bill(state: JobState, tasks: int) -> int:
    """What the settlement charges an array of 1-GPU tasks that ran 60 s each (``services.ledger.settle_job``)."""
    return settle(
        reserved=tasks * LIMIT,
        rate=1.0,
        nodes=1,
        gpus_per_node=1,
        tasks_elapsed=60 * tasks,
        started=True,
        timed_out=state is JobState.TIMEOUT,
        time_limit_seconds=LIMIT,
        tasks=tasks,
    ).charge


@pytest.mark.parametrize(
    ("tasks", "expected", "code"),
    [
        ([C, C], C, 0),
        ([C, F], F, 3),
        ([C, T], T, 143),
        ([C, X], X, 143),
        ([X, F, T], T, 143),  # local said cancelled, Slurm failed: a timed-out task bills its limit on both
        ([X, F], F, 143),  # the first non-zero code, in task order
        ([X, T], T, 143),  # local said cancelled
        ([F, X, C], F, 3),  # Slurm said failed; local said cancelled
    ],
)
def test_the_same_tasks_aggregate_and_bill_the_same_on_both_backends(
    tmp_path: Path, tasks: list[JobState], expected: JobState, code: int
) -> None:
    local, slurm = local_status(tmp_path, tasks), slurm_status(tasks)
    assert (local.state, local.exit_code) == (slurm.state, slurm.exit_code) == (expected, code)
    assert local.tasks == slurm.tasks == dict(enumerate(tasks))
    assert bill(local.state, len(tasks)) == bill(slurm.state, len(tasks))
    if T in tasks:  # a task killed at its limit ran that long: the array is charged at least that
        assert bill(local.state, len(tasks)) >= LIMIT


def test_the_rule_itself() -> None:
    assert OUTCOME_PRECEDENCE[0] is JobState.TIMEOUT
    assert aggregate([]) is JobState.QUEUED
    assert aggregate([JobState.QUEUED, JobState.QUEUED]) is JobState.QUEUED
    assert aggregate([JobState.QUEUED, JobState.COMPLETED]) is JobState.RUNNING  # started: never back to queued
    assert aggregate([JobState.RUNNING, JobState.FAILED]) is JobState.RUNNING
    assert aggregate([JobState.CANCELLED, JobState.COMPLETED]) is JobState.CANCELLED
    assert aggregate_exit_code(JobState.RUNNING, [3]) is None  # not over: no code yet
    assert aggregate_exit_code(JobState.COMPLETED, [None, 0, 0]) == 0
    assert aggregate_exit_code(JobState.FAILED, [0, None, 7, 3]) == 7
    assert aggregate_exit_code(JobState.CANCELLED, [None]) is None
