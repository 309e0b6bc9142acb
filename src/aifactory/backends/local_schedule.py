"""The local backend's poll, phase by phase: settle the started tasks, start queued ones on free CPU and GPU
slots (first come, first served), write each job's aggregate state. The caller holds the executor's lock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..domain.jobs.states import JobState
from . import local_tasks
from .local_files import Final, LocalJob, TaskFiles
from .local_tasks import Grant, Timing

StartTask = Callable[[LocalJob, TaskFiles, Grant], bool]


@dataclass
class Slots:
    """The free slots during one pass. First come, first served: once a task waits for CPUs, no later task
    starts; once one waits for GPUs, no later task takes GPUs (a big task is not starved by small ones)."""

    cpus: list[int]
    gpus: list[int]
    cpu_blocked: bool = False
    gpu_blocked: bool = False
    low: set[str] = field(default_factory=set)  # accounts at low priority

    @classmethod
    def free(cls, cpu_slots: int, gpu_slots: int, busy: Busy, low: set[str]) -> Slots:
        cpus = [s for s in range(cpu_slots) if s not in busy.cpus]
        return cls(cpus, [s for s in range(gpu_slots) if s not in busy.gpus], low=low)

    def take(self, job: LocalJob) -> Grant | None:
        """The slots for one task of ``job`` now; None when it must wait."""
        cpus, gpus = max(job.meta.cpus, 1), job.meta.gpus
        if self.cpu_blocked or (gpus and self.gpu_blocked):
            return None
        if len(self.cpus) < cpus:
            self.cpu_blocked = True
            return None
        if len(self.gpus) < gpus:
            self.gpu_blocked = True
            return None
        grant = Grant(tuple(self.cpus[:cpus]), tuple(self.gpus[:gpus]), job.meta.account in self.low)
        del self.cpus[:cpus], self.gpus[:gpus]
        return grant

    def give_back(self, grant: Grant) -> None:
        self.cpus = sorted({*self.cpus, *grant.cpus})
        self.gpus = sorted({*self.gpus, *grant.gpus})


@dataclass
class Busy:
    """The CPU and GPU slots the running tasks hold."""

    cpus: set[int] = field(default_factory=set)
    gpus: set[int] = field(default_factory=set)


def settle(jobs: list[LocalJob], now: float, timing: Timing) -> Busy:
    """Phase 1: settle every started task (enforcing time limits); a cancelled job's queued tasks are final.
    Returns the slots the running tasks hold."""
    busy = Busy()
    for job in jobs:
        cancelled = job.cancelled
        for index, before in job.states().items():
            task = job.task(index)
            if before is JobState.RUNNING:
                state = local_tasks.settle(job, task, now, timing)
                if state is JobState.RUNNING and (started := task.started()) is not None:
                    busy.cpus.update(started.cpus)
                    busy.gpus.update(started.slots)
            elif before is JobState.QUEUED and cancelled:
                task.write_final(Final(JobState.CANCELLED))
    return busy


def schedule(jobs: list[LocalJob], slots: Slots, start: StartTask) -> None:
    """Phase 2: start queued tasks while slots are free, low-priority accounts' last."""
    for job in sorted(jobs, key=lambda j: j.meta.account in slots.low):  # stable: low-priority ones last
        if not job.cancelled:
            _start_queued(job, slots, start)


def _start_queued(job: LocalJob, slots: Slots, start: StartTask) -> None:
    """Start the job's queued tasks within its ``max_parallel`` and the free slots."""
    states = job.states()
    running = sum(1 for s in states.values() if s is JobState.RUNNING)
    for index, state in states.items():
        if state is not JobState.QUEUED:
            continue
        if job.meta.max_parallel and running >= job.meta.max_parallel:
            return
        grant = slots.take(job)
        if grant is None:
            return
        if start(job, job.task(index), grant):
            running += 1
        else:
            slots.give_back(grant)
