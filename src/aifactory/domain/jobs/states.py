"""One normalized job state enum; each backend translates its native states into it."""

from __future__ import annotations

from enum import StrEnum

from ..errors import Conflict


class JobState(StrEnum):
    PENDING = "pending"
    """Accepted by the gateway and stored; not yet handed to a backend."""
    SUBMITTED = "submitted"
    """The backend accepted it (it has a backend id)."""
    QUEUED = "queued"
    """Waiting for resources in the backend's queue."""
    RUNNING = "running"
    COMPLETED = "completed"
    """Finished with exit code 0."""
    FAILED = "failed"
    """Finished with a non-zero exit code, or the backend could not run it (node failure, OOM)."""
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    """Killed at its time limit. Not FAILED: it is charged its full time limit."""


TERMINAL = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT})

_ORDER = [JobState.PENDING, JobState.SUBMITTED, JobState.QUEUED, JobState.RUNNING]


def can_move(current: JobState, new: JobState) -> bool:
    """Forward only: states can be skipped (a fast job may go submitted → completed between two polls),
    never revisited, and a terminal state is final."""
    if current in TERMINAL:
        return False
    if new in TERMINAL:
        return True
    return _ORDER.index(new) > _ORDER.index(current)


def check_move(current: JobState, new: JobState) -> None:
    if not can_move(current, new):
        raise Conflict(f"a job cannot go from {current.value} to {new.value}")
