"""What the local backend reads back from a job's files: the job's usage."""

from __future__ import annotations

from ..domain.jobs.execution import Usage
from .local_files import LocalJob


def job_usage(job: LocalJob, now: float) -> Usage:
    """Measured wall time (summed over the started tasks) and the GPUs each task held; nodes is always 1."""
    elapsed, starts, ends, running = 0.0, [], [], False
    for task in job.tasks:
        started = task.started()
        if started is None:
            continue
        final = task.final()
        end = final.ended_at if final is not None else None
        running = running or end is None
        starts.append(started.started_at)
        ends.append(end)
        elapsed += max(0.0, (end if end is not None else now) - started.started_at)
    return Usage(
        elapsed_seconds=round(elapsed),
        gpus=job.meta.gpus,
        nodes=1,
        started_at=min(starts) if starts else None,
        ended_at=None if running or not ends else max(e for e in ends if e is not None),
    )
