"""The job gateway on the demo factory with the fake backend: the ``env`` fixture's value (tests/services)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aifactory.demo import DemoInfo
from aifactory.domain.jobs.model import Job
from aifactory.domain.jobs.states import JobState
from aifactory.domain.projects import Allocation
from aifactory.services import jobs
from aifactory.services.context import Actor
from aifactory.services.ports import Backend, FixedClock
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeBackend


@dataclass
class JobsEnv:
    """The demo factory (its bakery project: 500 GPU-hours on booster, playground, hard) with the fake backend
    behind the job gateway, and the people the job tests act as."""

    uow_factory: SqlUnitOfWorkFactory
    clock: FixedClock
    demo: DemoInfo
    backend: FakeBackend
    gw: jobs.Gateway
    anna: Actor  # the bakery project's PI
    other: Actor  # Claire of MedVision: no member of the bakery project

    def gateway(self, backend: Backend, **kw: Any) -> jobs.Gateway:
        """A gateway like ``gw`` (same site and jobs folder) around another backend."""
        return jobs.Gateway(backend=backend, backend_name="fake", site="jupiter", jobs_root=self.gw.jobs_root, **kw)

    def actor(self, email: str) -> Actor:
        with self.uow_factory(write=False) as uow:
            return Actor(uow.users.by_email(email))

    def spec(self, gpus: int = 1, minutes: int = 30, **extra: Any) -> dict[str, Any]:
        """A job spec for the bakery project (``resources`` in ``extra`` are merged into the defaults)."""
        resources = {"gpus_per_node": gpus, "time": minutes, **extra.pop("resources", {})}
        return {
            "name": "forecast",
            "project": 1,
            "command": ["python", "-c", "print(1)"],
            "resources": resources,
            **extra,
        }

    def submit(self, document: dict[str, Any], *, actor: Actor | None = None, gw: jobs.Gateway | None = None) -> Job:
        return jobs.submit_job(self.uow_factory, self.clock, actor or self.anna, gw or self.gw, document)

    def reconcile(self, gw: jobs.Gateway | None = None) -> int:
        return jobs.reconcile(self.uow_factory, self.clock, gw or self.gw)

    def finish(self, job: Job, state: JobState, used_seconds: int, gw: jobs.Gateway | None = None) -> None:
        """The fake backend reports the job ``state`` after ``used_seconds`` of wall time; one reconcile pass."""
        gw = gw or self.gw
        assert isinstance(gw.backend, FakeBackend) and job.backend_id is not None
        gw.backend.states[job.backend_id] = state
        gw.backend.used[job.backend_id] = used_seconds
        self.reconcile(gw)

    def charge_hours(self, hours: float, nodes: int, gw: jobs.Gateway | None = None) -> None:
        """A 4-hour, 4-GPU job on ``nodes`` nodes that used ``hours`` GPU-hours."""
        job = self.submit(self.spec(gpus=4, minutes=240, resources={"nodes": nodes}), gw=gw)
        self.finish(job, JobState.COMPLETED, round(hours * 3600 / (4 * nodes)), gw)

    def allocation(self, allocation_id: int = 1) -> Allocation:
        with self.uow_factory(write=False) as uow:
            return uow.allocations.get(allocation_id)
