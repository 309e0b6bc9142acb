"""Job gateway use cases against the stateful fake backend (the seam; the real backends have their own
tests): admission, idempotency, crash safety between the backend call and storing its id, scheduler I/O
outside transactions, hand-overs retried with backoff, and cancels stored first and carried out until the
backend confirms them (the same faults on the real cluster: tests/crash/test_slurm_faults.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from aifactory.domain.access import PageRequest
from aifactory.domain.errors import Forbidden, InvalidInput, NotFound
from aifactory.domain.jobs.execution import BackendJob, BackendStatus
from aifactory.domain.jobs.model import Job
from aifactory.domain.jobs.states import JobState
from aifactory.services import jobs
from aifactory.services.ports import BackendUnavailable, UnitOfWork
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeBackend
from tests.support.jobs_env import JobsEnv


def test_submit_stores_history_and_hands_the_backend_the_project_account(env: JobsEnv) -> None:
    job = env.submit(env.spec())
    assert (job.state, job.backend_id) == (JobState.SUBMITTED, "100")
    handed = env.backend.jobs["100"]
    assert handed.account.startswith("p00001_") and handed.partition == "booster"
    assert re.fullmatch(rf"aif:jupiter:{job.id}:[0-9a-f]{{12}}", handed.comment) and Path(handed.job_dir).is_dir()
    env.backend.states["100"] = JobState.COMPLETED
    assert env.reconcile() == 1
    with env.uow_factory(write=False) as uow:
        stored = uow.jobs.get(job.id)
        assert [e.state for e in stored.events] == [JobState.SUBMITTED, JobState.COMPLETED]
        assert stored.exit_code == 0
    calls = env.backend.status_calls
    assert env.reconcile() == 0 and env.backend.status_calls == calls  # nothing open: nothing asked


def test_idempotency_key_returns_the_same_job_and_says_so(env: JobsEnv) -> None:
    document = env.spec(idempotency_key="nightly-2026-03-02")
    first = jobs.submit_job_or_existing(env.uow_factory, env.clock, env.anna, env.gw, document)
    again = jobs.submit_job_or_existing(env.uow_factory, env.clock, env.anna, env.gw, document)
    assert (first.created, again.created) == (True, False)
    assert again.job.id == first.job.id and len(env.backend.jobs) == 1


def test_refusals_name_the_field_and_write_nothing(env: JobsEnv) -> None:
    with pytest.raises(InvalidInput) as exc:
        env.submit(env.spec(gpus=5))
    assert exc.value.errors[0].field == "resources.gpus_per_node"
    with pytest.raises(InvalidInput, match="maximum wall time"):  # playground: 4 h
        env.submit(env.spec(minutes="5h"))
    with pytest.raises(InvalidInput, match="allocation has"):  # 500 GPU-hours awarded
        env.submit(env.spec(gpus=4, minutes="4h", array={"range": "0-31"}))
    with pytest.raises(NotFound):  # another organization's project does not exist for this user
        env.submit(env.spec(), actor=env.other)
    with env.uow_factory(write=False) as uow:
        assert uow.jobs.open_jobs() == [] and env.backend.jobs == {}


def test_backend_refusal_is_recorded_as_failed(env: JobsEnv) -> None:
    env.backend.refuse = "apptainer is not installed on this site"
    with pytest.raises(InvalidInput, match="apptainer"):
        env.submit(env.spec())
    with env.uow_factory(write=False) as uow:
        job = uow.jobs.get(1)
        assert job.state is JobState.FAILED and "apptainer" in job.reason


class _Dead(FakeBackend):
    def submit(self, job: BackendJob) -> str:
        raise SystemExit("killed before the backend got the job")


@pytest.mark.parametrize("backend_got_it", [True, False])
def test_crash_between_backend_and_store_loses_and_duplicates_nothing(env: JobsEnv, backend_got_it: bool) -> None:
    env.backend.crash_after_submit = backend_got_it
    crashing = env.gw if backend_got_it else env.gateway(_Dead())
    with pytest.raises(SystemExit):
        env.submit(env.spec(), gw=crashing)
    env.backend.crash_after_submit = False
    assert env.reconcile() == 0  # too young: may still be in flight
    env.clock.advance(minutes=3)
    assert env.reconcile() == 1
    assert len(env.backend.jobs) == 1
    with env.uow_factory(write=False) as uow:
        job = uow.jobs.get(1)
        assert job.backend_id == "100" and job.state is JobState.SUBMITTED
        assert ("adopted" if backend_got_it else "resubmitted") in job.events[-1].detail


def _actions(env: JobsEnv, job_id: int) -> list[str]:
    with env.uow_factory(write=False) as uow:
        return [e.action for e in uow.audit.list(PageRequest(), entity_type="job", entity_id=job_id).items]


def test_cancel(env: JobsEnv) -> None:
    job = env.submit(env.spec())
    with pytest.raises(NotFound):
        jobs.cancel_job(env.uow_factory, env.clock, env.other, env.gw, job.id)
    cancelled = jobs.cancel_job(env.uow_factory, env.clock, env.anna, env.gw, job.id)
    assert cancelled.state is JobState.CANCELLED and cancelled.reason == f"cancelled by user {env.anna.id}"
    assert env.backend.states[job.backend_id] is JobState.CANCELLED
    with env.uow_factory(write=False) as uow:
        assert [e.action for e in uow.audit.list(PageRequest(), entity_type="job", entity_id=job.id).items].count(
            "job.cancelled"
        ) == 1


def _job(env: JobsEnv, job_id: int) -> Job:
    with env.uow_factory(write=False) as uow:
        return uow.jobs.get(job_id)


def test_a_hand_over_the_backend_did_not_answer_is_retried_with_backoff_not_after_the_orphan_window(
    env: JobsEnv,
) -> None:
    env.backend.down = True
    job = env.submit(env.spec())
    assert job.state is JobState.PENDING and job.backend_id is None and "fake scheduler is down" in job.reason
    assert (job.submit_attempts, job.next_attempt_at) == (1, env.clock.now() + timedelta(seconds=1))
    env.backend.down = False
    assert env.reconcile() == 0 and env.backend.jobs == {}  # its backoff is not over: not yet
    env.backend.down = True
    env.clock.advance(seconds=1)
    assert env.reconcile() == 0  # the reconciler's next cycle: still down, the next try waits twice as long
    assert (_job(env, job.id).submit_attempts, _job(env, job.id).next_attempt_at) == (
        2,
        env.clock.now() + timedelta(seconds=2),
    )
    env.backend.down = False
    env.clock.advance(seconds=2)  # the backend is back: submitted long before the 120 s orphan window
    assert env.reconcile() == 1
    stored = _job(env, job.id)
    assert stored.state is JobState.SUBMITTED and stored.backend_id == "100" and len(env.backend.jobs) == 1
    assert stored.reason == "" and stored.next_attempt_at is None  # the stale "did not answer" is gone
    assert "resubmitted" in stored.events[-1].detail


def test_a_round_of_retries_stops_at_the_first_the_backend_does_not_answer(env: JobsEnv) -> None:
    env.backend.down = True
    first, second = env.submit(env.spec()), env.submit(env.spec(name="second"))
    env.clock.advance(seconds=1)
    env.reconcile()
    assert [_job(env, j.id).submit_attempts for j in (first, second)] == [2, 1]  # the second keeps its turn


def test_a_retry_finds_the_job_a_timed_out_submission_did_give_the_backend(env: JobsEnv) -> None:
    env.backend.crash_after_submit = True  # the backend took it, but its answer never came back

    class _LostAnswer(FakeBackend):
        def submit(self, job: BackendJob) -> str:
            try:
                return env.backend.submit(job)
            except SystemExit:
                raise BackendUnavailable("sbatch timed out") from None

    job = env.submit(env.spec(), gw=env.gateway(_LostAnswer()))
    assert job.submit_attempts == 1 and len(env.backend.jobs) == 1
    env.backend.crash_after_submit = False
    env.clock.advance(seconds=1)
    assert env.reconcile() == 1 and len(env.backend.jobs) == 1  # adopted by its comment, not submitted twice
    assert _job(env, job.id).backend_id == "100" and "adopted" in _job(env, job.id).events[-1].detail


def test_a_cancel_the_backend_cannot_take_is_stored_and_carried_out_once_it_answers(env: JobsEnv) -> None:
    job = env.submit(env.spec())
    env.backend.down = True
    pending = jobs.cancel_job(env.uow_factory, env.clock, env.anna, env.gw, job.id)
    assert pending.state is JobState.SUBMITTED and pending.cancel_pending
    assert (pending.cancel_requested_at, pending.cancel_requested_by) == (env.clock.now(), env.anna.id)
    with pytest.raises(BackendUnavailable):
        env.reconcile()  # still down: the cancel waits (the runtime logs one line)
    assert _job(env, job.id).cancel_pending and _actions(env, job.id) == ["job.cancel_requested", "job.created"]
    again = jobs.cancel_job(env.uow_factory, env.clock, env.actor("operator@jaif.example"), env.gw, job.id)
    assert again.cancel_requested_by == env.anna.id  # the first request counts
    env.backend.down = False
    env.reconcile()
    stored = _job(env, job.id)
    assert stored.state is JobState.CANCELLED and stored.reason == f"cancelled by user {env.anna.id}"
    assert env.backend.states["100"] is JobState.CANCELLED
    assert _actions(env, job.id).count("job.cancelled") == 1


class _Watched:
    """A unit-of-work factory that counts the transactions open at any moment."""

    def __init__(self, inner: SqlUnitOfWorkFactory) -> None:
        self.inner, self.open = inner, 0

    @contextmanager
    def __call__(self, *, write: bool = True) -> Iterator[UnitOfWork]:
        with self.inner(write=write) as uow:
            self.open += 1
            try:
                yield uow
            finally:
                self.open -= 1


class _Recording(FakeBackend):
    """Notes how many transactions were open whenever the scheduler was called."""

    def __init__(self, watched: _Watched) -> None:
        super().__init__()
        self.watched, self.open_during = watched, []

    def submit(self, job: BackendJob) -> str:
        self.open_during.append(("submit", self.watched.open))
        return super().submit(job)

    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]:
        self.open_during.append(("status", self.watched.open))
        return super().status(ids)

    def cancel(self, ids: Sequence[str]) -> None:
        self.open_during.append(("cancel", self.watched.open))
        super().cancel(ids)


def test_scheduler_calls_happen_outside_transactions(env: JobsEnv) -> None:
    watched = _Watched(env.uow_factory)
    backend = _Recording(watched)
    gw = env.gateway(backend)
    job = jobs.submit_job(watched, env.clock, env.anna, gw, env.spec())  # type: ignore[arg-type]
    jobs.reconcile(watched, env.clock, gw)  # type: ignore[arg-type]
    jobs.cancel_job(watched, env.clock, env.anna, gw, job.id)  # type: ignore[arg-type]
    assert backend.open_during == [("submit", 0), ("status", 0), ("cancel", 0)]


class _FinishesWhileCancelling(FakeBackend):
    """The job ends (and the reconciler records it) while the cancel is on its way to the scheduler."""

    def __init__(self, env: JobsEnv) -> None:
        super().__init__()
        self.env = env

    def cancel(self, ids: Sequence[str]) -> None:
        with self.env.uow_factory() as uow:
            job = next(j for j in uow.jobs.open_jobs() if j.backend_id in ids)
            job.move(JobState.COMPLETED, self.env.clock.now(), exit_code=0)
            uow.commit()


def test_a_job_that_ends_while_being_cancelled_keeps_its_end(env: JobsEnv) -> None:
    gw = env.gateway(_FinishesWhileCancelling(env))
    job = env.submit(env.spec(), gw=gw)
    assert jobs.cancel_job(env.uow_factory, env.clock, env.anna, gw, job.id).state is JobState.COMPLETED


def test_a_job_whose_hand_over_failed_is_looked_up_before_it_counts_as_cancelled(env: JobsEnv) -> None:
    env.backend.down = True
    job = env.submit(env.spec())  # stays pending: no backend id
    assert jobs.cancel_job(env.uow_factory, env.clock, env.anna, env.gw, job.id).cancel_pending
    env.clock.advance(minutes=3)
    assert env.reconcile() == 0 and _job(env, job.id).cancel_pending  # down: it may have the job; ask later
    env.backend.down = False
    assert env.reconcile() == 1 and env.backend.jobs == {}  # not there: cancelled, and never resubmitted
    stored = _job(env, job.id)
    assert stored.state is JobState.CANCELLED and stored.reason.endswith("before the backend had it")


def test_a_cancel_after_an_interrupted_submission_adopts_the_job_cancels_it_and_charges_what_ran(
    env: JobsEnv,
) -> None:
    env.backend.crash_after_submit = True
    with pytest.raises(SystemExit):
        env.submit(env.spec(gpus=2))  # the backend has the job; the server died before storing its id
    env.backend.crash_after_submit = False
    job = jobs.cancel_job(env.uow_factory, env.clock, env.anna, env.gw, 1)
    assert job.cancel_pending and job.backend_id is None
    assert env.reconcile() == 0 and _job(env, 1).cancel_pending  # its hand-over may still be under way
    env.backend.used["100"] = 600  # it ran for 10 minutes meanwhile
    env.clock.advance(minutes=3)
    env.reconcile()
    stored = _job(env, 1)
    assert (stored.state, stored.backend_id) == (JobState.CANCELLED, "100")
    assert env.backend.states["100"] is JobState.CANCELLED and len(env.backend.jobs) == 1
    assert "to be cancelled" in stored.events[-2].detail and stored.settled_at is not None
    assert env.allocation().charged_seconds == 2 * 600  # 2 GPUs for 10 minutes
    assert env.allocation().reserved_seconds == 0


def test_a_cancel_that_arrives_during_the_hand_over_is_carried_out_when_the_backend_answers(env: JobsEnv) -> None:
    class _SlowSubmit(FakeBackend):
        def submit(self, job: BackendJob) -> str:
            got = super().submit(job)
            asked = jobs.cancel_job(env.uow_factory, env.clock, env.anna, gw, job.job_id)  # while sbatch runs
            assert asked.cancel_pending and asked.backend_id is None
            return got

    gw = env.gateway(_SlowSubmit())
    job = env.submit(env.spec(), gw=gw)
    assert (job.state, job.backend_id) == (JobState.CANCELLED, "100")
    assert gw.backend.states["100"] is JobState.CANCELLED  # type: ignore[attr-defined]


def test_projects_are_provisioned_once_with_the_submitting_user(env: JobsEnv) -> None:
    gw = env.gateway(env.backend, submit_user="aifactory")
    env.submit(env.spec(), gw=gw)
    env.submit(env.spec(name="second"), gw=gw)
    assert len(env.backend.accounts) == 1
    assert env.backend.accounts[0].account.startswith("p00001_") and env.backend.accounts[0].users == ("aifactory",)


def test_who_may_cancel_and_who_sees_what(env: JobsEnv) -> None:
    job = env.submit(env.spec())
    lars = env.actor("lars@fz-nord.example")  # a member of the project, not its PI
    operator = env.actor("operator@jaif.example")
    with env.uow_factory(write=False) as uow:
        assert [j.id for j in jobs.list_jobs(uow, lars, PageRequest()).items] == [job.id]
        assert jobs.list_jobs(uow, env.other, PageRequest()).items == []
        assert jobs.list_jobs(uow, operator, PageRequest(), state=JobState.COMPLETED).items == []
    with pytest.raises(Forbidden):
        jobs.cancel_job(env.uow_factory, env.clock, lars, env.gw, job.id)
    assert jobs.cancel_job(env.uow_factory, env.clock, operator, env.gw, job.id).state is JobState.CANCELLED
