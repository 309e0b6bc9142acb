"""What the local backend reads back from a job's files: a job's usage and the aggregate of its tasks' states."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..domain.jobs.states import TERMINAL, JobState
from .base import Usage
from .local_proc import read_json


def job_usage(job_dir: Path, meta: dict[str, Any], now: float) -> Usage:
    """Measured wall time (summed over the started tasks) and the GPUs each task held; nodes is always 1."""
    elapsed, starts, ends, running = 0.0, [], [], False
    for i in meta["indices"]:
        started = read_json(job_dir / f"started-{i}")
        if not started:
            continue
        final = read_json(job_dir / f"final-{i}.json") or {}
        end = final.get("ended_at")
        running = running or end is None
        starts.append(started["started_at"])
        ends.append(end)
        elapsed += max(0.0, (end if end is not None else now) - started["started_at"])
    return Usage(
        elapsed_seconds=round(elapsed),
        gpus=int(meta["gpus"]),
        nodes=1,
        started_at=min(starts) if starts else None,
        ended_at=None if running or not ends else max(e for e in ends if e is not None),
    )


def aggregate(tasks: dict[int, JobState]) -> JobState:
    """A job's state from its tasks' states."""
    states = set(tasks.values())
    if states <= TERMINAL:
        for state in (JobState.CANCELLED, JobState.FAILED, JobState.TIMEOUT):
            if state in states:
                return state
        return JobState.COMPLETED
    if JobState.RUNNING in states or states & TERMINAL:
        return JobState.RUNNING  # some task started: never back to queued
    return JobState.QUEUED
