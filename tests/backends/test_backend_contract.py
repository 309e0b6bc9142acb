"""One contract, three backends: the tests' fake, the local executor (real subprocesses) and the Slurm backend on a
fake Slurm behind the command-runner seam. What the services rely on holds for each of them alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.execution import BackendJob, LogChunk, ProjectAccount, Usage
from aifactory.domain.jobs.states import TERMINAL, JobState
from aifactory.services.ports import AccountingBackend, Backend, BackendUnavailable, PriorityBackend
from tests.fakes import FakeBackend, FakeScheduler
from tests.support.local_jobs import job, make, wait_for
from tests.support.slurm_runner import FakeSlurm


@dataclass
class Subject:
    backend: Backend
    unreachable: Backend  # the same backend whose scheduler cannot be reached
    unknown_id: str  # an id of the backend's form that it never gave out


def _fake(tmp_path: Path) -> Subject:
    down = FakeBackend()
    down.down = True
    return Subject(FakeBackend(), down, "999")


def _local(tmp_path: Path) -> Subject:
    (tmp_path / "blocked").write_text("a file where the executor's folder should be")
    return Subject(make(tmp_path, gpu_slots=1), make(tmp_path / "blocked"), "local-999")


def _slurm(tmp_path: Path) -> Subject:
    down = FakeSlurm()
    down.down = True
    return Subject(SlurmBackend(FakeSlurm()), SlurmBackend(down), "999")


SUBJECTS: dict[str, Callable[[Path], Subject]] = {"fake": _fake, "local": _local, "slurm": _slurm}


@pytest.fixture(params=sorted(SUBJECTS))
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    return SUBJECTS[request.param](tmp_path)


def _job(tmp_path: Path, job_id: int = 1) -> BackendJob:
    return job(tmp_path, job_id, {"command": ["sleep", "20"], "resources": {"time": 1}})


def test_it_is_a_backend(subject: Subject) -> None:
    assert isinstance(subject.backend, Backend) and subject.backend.name


def test_submit_status_find_usage_logs_and_cancel(subject: Subject, tmp_path: Path) -> None:
    b, handed = subject.backend, _job(tmp_path)
    backend_id = b.submit(handed)
    assert isinstance(backend_id, str) and backend_id
    assert b.status([backend_id])[backend_id].state in (JobState.QUEUED, JobState.RUNNING)
    assert b.find_by_comment(handed.comment) == backend_id
    assert b.find_by_comment("aif:nobody:1:000000") is None
    assert all(isinstance(u, Usage) for u in b.usage([backend_id]).values())
    chunk = b.logs(backend_id, handed.job_dir, "stdout", 0)
    assert isinstance(chunk, LogChunk) and chunk.offset == len(chunk.data)
    b.cancel([backend_id])
    status = wait_for(lambda: (s := b.status([backend_id])[backend_id]).state in TERMINAL and s)
    assert status.state is JobState.CANCELLED
    done = wait_for(lambda: (c := b.logs(backend_id, handed.job_dir, "stdout", 0)).complete and c)
    assert done.offset == len(done.data)


def test_ids_it_never_gave_out_are_left_out(subject: Subject) -> None:
    assert subject.backend.status([]) == {}
    assert subject.backend.status([subject.unknown_id]) == {}
    assert subject.backend.usage([subject.unknown_id]) == {}


def test_a_stream_other_than_stdout_or_stderr_is_refused(subject: Subject, tmp_path: Path) -> None:
    handed = _job(tmp_path)
    backend_id = subject.backend.submit(handed)
    with pytest.raises(InvalidInput):
        subject.backend.logs(backend_id, handed.job_dir, "stdin", 0)  # type: ignore[arg-type]
    subject.backend.cancel([backend_id])


def test_provisioning_is_idempotent(subject: Subject) -> None:
    for _ in range(2):
        subject.backend.ensure_project(ProjectAccount("p7", ("anna",)))


def test_an_unreachable_scheduler_is_backend_unavailable(subject: Subject, tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable):
        subject.unreachable.submit(_job(tmp_path, 2))
    with pytest.raises(BackendUnavailable):
        subject.unreachable.status(["1"])
    with pytest.raises(BackendUnavailable):
        subject.unreachable.cancel(["1"])


@pytest.mark.parametrize(
    ("name", "priority", "accounting"),
    [("fake", False, False), ("local", True, False), ("slurm", True, True)],
)
def test_capabilities_are_told_by_the_protocols(name: str, priority: bool, accounting: bool, tmp_path: Path) -> None:
    backend = SUBJECTS[name](tmp_path).backend
    assert isinstance(backend, PriorityBackend) is priority
    assert isinstance(backend, AccountingBackend) is accounting
    assert isinstance(FakeScheduler(), AccountingBackend)
