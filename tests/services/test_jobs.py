"""Job gateway use cases against a stateful fake backend (the seam; the real backends have their own
tests): admission, idempotency, and crash safety between the backend call and storing its id."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from aifactory.backends.base import BackendJob, BackendStatus, CommandError, CommandResult, ProjectAccount, Usage
from aifactory.demo import seed_demo
from aifactory.domain.access import PageRequest
from aifactory.domain.errors import Forbidden, InvalidInput, NotFound
from aifactory.domain.jobs.states import JobState
from aifactory.services import jobs
from aifactory.services.context import Actor

BAKERY = "anna@backhaus-kiel.example"


class FakeBackend:
    name = "fake"

    def __init__(self) -> None:
        self.jobs: dict[str, BackendJob] = {}
        self.states: dict[str, JobState] = {}
        self.crash_after_submit = False
        self.refuse: str | None = None

    def submit(self, job: BackendJob) -> str:
        if self.refuse:
            raise InvalidInput.on("container.image", self.refuse)
        backend_id = str(100 + len(self.jobs))
        self.jobs[backend_id], self.states[backend_id] = job, JobState.QUEUED
        if self.crash_after_submit:
            raise SystemExit("killed between 'submitted' and 'id stored'")
        return backend_id

    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]:
        self.status_calls = getattr(self, "status_calls", 0) + 1
        return {i: BackendStatus(self.states[i], 0 if self.states[i] is JobState.COMPLETED else None) for i in ids}

    def cancel(self, ids: Sequence[str]) -> None:
        for i in ids:
            self.states[i] = JobState.CANCELLED

    def find_by_comment(self, comment: str) -> str | None:
        return next((i for i, j in self.jobs.items() if j.comment == comment), None)

    def ensure_project(self, account: ProjectAccount) -> None:
        self.accounts = [*getattr(self, "accounts", []), account]

    def usage(self, ids: Sequence[str]) -> dict[str, Usage]:
        """``used[id]`` seconds of wall time for the jobs a test says ran; the others never started."""
        used = getattr(self, "used", {})
        return {
            i: Usage(elapsed_seconds=used.get(i, 0), gpus=1, nodes=1, started_at=1.0e9 if used.get(i) else None)
            for i in ids
            if i in self.jobs
        }


@pytest.fixture
def env(uow_factory, clock, tmp_path: Path):
    info = seed_demo(uow_factory, clock)
    backend = FakeBackend()
    gw = jobs.Gateway(backend=backend, backend_name="fake", site="jupiter", jobs_root=tmp_path / "jobs")
    with uow_factory() as uow:
        anna = Actor(uow.users.by_email(BAKERY))
        other = Actor(uow.users.by_email("claire@medvision.example"))
    return info, backend, gw, anna, other


def doc(**extra):
    return {
        "name": "forecast",
        "project": 1,
        "command": ["python", "-c", "print(1)"],
        "resources": {"gpus_per_node": 1, "time": 30},
        **extra,
    }


def test_submit_stores_history_and_hands_the_backend_the_project_account(env, uow_factory, clock) -> None:
    _, backend, gw, anna, _ = env
    job = jobs.submit_job(uow_factory, clock, anna, gw, doc())
    assert (job.state, job.backend_id) == (JobState.SUBMITTED, "100")
    handed = backend.jobs["100"]
    assert handed.account.startswith("p00001_") and handed.partition == "booster"
    assert re.fullmatch(rf"aif:jupiter:{job.id}:[0-9a-f]{{12}}", handed.comment) and Path(handed.job_dir).is_dir()
    backend.states["100"] = JobState.COMPLETED
    assert jobs.reconcile(uow_factory, clock, gw) == 1
    with uow_factory(write=False) as uow:
        stored = uow.jobs.get(job.id)
        assert [e.state for e in stored.events] == [JobState.SUBMITTED, JobState.COMPLETED]
        assert stored.exit_code == 0
    assert jobs.reconcile(uow_factory, clock, gw) == 0  # nothing open: nothing asked


def test_idempotency_key_returns_the_same_job(env, uow_factory, clock) -> None:
    _, backend, gw, anna, _ = env
    first = jobs.submit_job(uow_factory, clock, anna, gw, doc(idempotency_key="nightly-2026-03-02"))
    again = jobs.submit_job(uow_factory, clock, anna, gw, doc(idempotency_key="nightly-2026-03-02"))
    assert again.id == first.id and len(backend.jobs) == 1


def test_refusals_name_the_field_and_write_nothing(env, uow_factory, clock) -> None:
    _, backend, gw, anna, other = env
    with pytest.raises(InvalidInput) as exc:
        jobs.submit_job(uow_factory, clock, anna, gw, doc(resources={"gpus_per_node": 5}))
    assert exc.value.errors[0].field == "resources.gpus_per_node"
    with pytest.raises(InvalidInput, match="maximum wall time"):  # playground: 4 h
        jobs.submit_job(uow_factory, clock, anna, gw, doc(resources={"time": "5h"}))
    with pytest.raises(InvalidInput, match="allocation has"):  # 500 GPU-hours awarded
        jobs.submit_job(
            uow_factory, clock, anna, gw, doc(resources={"gpus_per_node": 4, "time": "4h"}, array={"range": "0-31"})
        )
    with pytest.raises(NotFound):  # another organization's project does not exist for this user
        jobs.submit_job(uow_factory, clock, other, gw, doc())
    with uow_factory(write=False) as uow:
        assert uow.jobs.open_jobs() == [] and backend.jobs == {}


def test_backend_refusal_is_recorded_as_failed(env, uow_factory, clock) -> None:
    _, backend, gw, anna, _ = env
    backend.refuse = "apptainer is not installed on this site"
    with pytest.raises(InvalidInput, match="apptainer"):
        jobs.submit_job(uow_factory, clock, anna, gw, doc())
    with uow_factory(write=False) as uow:
        job = uow.jobs.get(1)
        assert job.state is JobState.FAILED and "apptainer" in job.reason


@pytest.mark.parametrize("backend_got_it", [True, False])
def test_crash_between_backend_and_store_loses_and_duplicates_nothing(env, uow_factory, clock, backend_got_it):
    _, backend, gw, anna, _ = env
    backend.crash_after_submit = backend_got_it
    if not backend_got_it:
        backend.refuse = None
        gw = jobs.Gateway(backend=_Dead(), backend_name="fake", site="jupiter", jobs_root=gw.jobs_root)
    with pytest.raises(SystemExit):
        jobs.submit_job(uow_factory, clock, anna, gw, doc())
    gw = jobs.Gateway(backend=backend, backend_name="fake", site="jupiter", jobs_root=gw.jobs_root)
    assert jobs.reconcile(uow_factory, clock, gw) == 0  # too young: may still be in flight
    clock.advance(minutes=3)
    assert jobs.reconcile(uow_factory, clock, gw) == 1
    assert len(backend.jobs) == 1
    with uow_factory(write=False) as uow:
        job = uow.jobs.get(1)
        assert job.backend_id == "100" and job.state is JobState.SUBMITTED
        assert ("adopted" if backend_got_it else "resubmitted") in job.events[-1].detail


class _Dead(FakeBackend):
    def submit(self, job: BackendJob) -> str:
        raise SystemExit("killed before the backend got the job")


def test_cancel(env, uow_factory, clock) -> None:
    _, backend, gw, anna, other = env
    job = jobs.submit_job(uow_factory, clock, anna, gw, doc())
    with pytest.raises(NotFound):
        jobs.cancel_job(uow_factory, clock, other, gw, job.id)
    assert jobs.cancel_job(uow_factory, clock, anna, gw, job.id).state is JobState.CANCELLED
    assert backend.states[job.backend_id] is JobState.CANCELLED


class _Flaky(FakeBackend):
    """sbatch fails (controller down) until ``up`` is set."""

    up = False

    def submit(self, job: BackendJob) -> str:
        if not self.up:
            raise CommandError(
                CommandResult(
                    ("sbatch",), 1, "", "sbatch: error: Batch job submission failed: Unable to contact slurm controller"
                )
            )
        return super().submit(job)


def test_a_backend_that_does_not_answer_leaves_the_job_pending_for_the_reconciler(env, uow_factory, clock) -> None:
    _, _, gw, anna, _ = env
    flaky = _Flaky()
    gw = jobs.Gateway(backend=flaky, backend_name="fake", site="jupiter", jobs_root=gw.jobs_root)
    job = jobs.submit_job(uow_factory, clock, anna, gw, doc())
    assert job.state is JobState.PENDING and job.backend_id is None and "Unable to contact" in job.reason
    clock.advance(minutes=3)
    assert jobs.reconcile(uow_factory, clock, gw) == 0  # still down: kept pending, retried next pass
    flaky.up = True
    assert jobs.reconcile(uow_factory, clock, gw) == 1
    with uow_factory(write=False) as uow:
        stored = uow.jobs.get(job.id)
        assert stored.state is JobState.SUBMITTED and stored.backend_id == "100"
        assert "resubmitted" in stored.events[-1].detail


def test_projects_are_provisioned_once_with_the_submitting_user(env, uow_factory, clock) -> None:
    _, backend, gw, anna, _ = env
    gw = jobs.Gateway(
        backend=backend, backend_name="fake", site="jupiter", jobs_root=gw.jobs_root, submit_user="aifactory"
    )
    jobs.submit_job(uow_factory, clock, anna, gw, doc())
    jobs.submit_job(uow_factory, clock, anna, gw, doc(name="second"))
    assert len(backend.accounts) == 1
    assert backend.accounts[0].account.startswith("p00001_") and backend.accounts[0].users == ("aifactory",)


def test_who_may_cancel_and_who_sees_what(env, uow_factory, clock) -> None:
    _, _, gw, anna, other = env
    job = jobs.submit_job(uow_factory, clock, anna, gw, doc())
    with uow_factory(write=False) as uow:
        lars = Actor(uow.users.by_email("lars@fz-nord.example"))  # a member of the project, not its PI
        operator = Actor(uow.users.by_email("operator@jaif.example"))
        assert [j.id for j in jobs.list_jobs(uow, lars, PageRequest()).items] == [job.id]
        assert jobs.list_jobs(uow, other, PageRequest()).items == []
        assert jobs.list_jobs(uow, operator, PageRequest(), state=JobState.COMPLETED).items == []
    with pytest.raises(Forbidden):
        jobs.cancel_job(uow_factory, clock, lars, gw, job.id)
    assert jobs.cancel_job(uow_factory, clock, operator, gw, job.id).state is JobState.CANCELLED
