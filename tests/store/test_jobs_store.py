"""Jobs persist with their state history, on SQLite and PostgreSQL; idempotency keys are unique per
project; the reconciler's query sees exactly the open jobs; members see only their projects' jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from aifactory.demo import seed_demo
from aifactory.domain.access import PageRequest, ProjectScope
from aifactory.domain.jobs.model import Job, job_comment
from aifactory.domain.jobs.states import JobState


def _job(uow, project, clock, key: str | None = None) -> Job:
    alloc = project.allocations[0]
    now = clock.now()
    return Job(
        project_id=project.id,
        allocation_id=alloc.id,
        resource_id=alloc.resource_id,
        submitted_by=project.members[0].user_id,
        name="train",
        spec={"name": "train", "command": ["true"]},
        backend="local",
        idempotency_key=key,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def world(uow_factory, clock):
    seed_demo(uow_factory, clock)
    return uow_factory


def test_history_round_trip(world, clock) -> None:
    with world() as uow:
        project = uow.projects.get(1)
        job = uow.jobs.add(_job(uow, project, clock))
        job.comment = job_comment("jupiter", job.id, "abc123")
        for state in (JobState.SUBMITTED, JobState.RUNNING):
            clock.advance(seconds=5)
            job.move(state, clock.now())
        clock.advance(seconds=30)
        job.move(JobState.COMPLETED, clock.now(), "exit 0", exit_code=0)
        uow.commit()
        job_id = job.id
    with world(write=False) as uow:
        job = uow.jobs.get(job_id)
        assert [e.state for e in job.events] == [JobState.SUBMITTED, JobState.RUNNING, JobState.COMPLETED]
        assert job.finished_at - job.started_at == timedelta(seconds=30)
        assert (job.state, job.exit_code, job.comment) == (JobState.COMPLETED, 0, f"aif:jupiter:{job_id}:abc123")


def test_idempotency_key_unique_per_project(world, clock) -> None:
    with world() as uow:
        project = uow.projects.get(1)
        uow.jobs.add(_job(uow, project, clock, key="run-1"))
        uow.jobs.add(_job(uow, project, clock, key=None))
        uow.jobs.add(_job(uow, project, clock, key=None))  # no key: no constraint
        uow.commit()
        assert uow.jobs.by_idempotency_key(project.id, "run-1") is not None
    with world() as uow, pytest.raises(IntegrityError):
        uow.jobs.add(_job(uow, uow.projects.get(1), clock, key="run-1"))


def test_open_jobs_and_member_scope(world, clock) -> None:
    with world() as uow:
        p1, p2 = uow.projects.get(1), uow.projects.get(2)
        done = uow.jobs.add(_job(uow, p1, clock))
        done.move(JobState.FAILED, clock.now(), "exit 1", exit_code=1)
        running = uow.jobs.add(_job(uow, p1, clock))
        running.move(JobState.RUNNING, clock.now())
        other = uow.jobs.add(_job(uow, p2, clock))
        uow.commit()
        assert [j.id for j in uow.jobs.open_jobs("local")] == [running.id, other.id]
        member = p1.members[0].user_id
        mine = uow.jobs.list(PageRequest(), ProjectScope(member_id=member)).items
        assert {j.id for j in mine} == {done.id, running.id}
        assert uow.jobs.list(PageRequest(), ProjectScope(everything=True), state="failed").total == 1
