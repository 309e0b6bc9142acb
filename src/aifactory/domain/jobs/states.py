"""One normalized job state enum; each backend translates its native states into it."""

from __future__ import annotations

from collections.abc import Iterable
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


OUTCOME_PRECEDENCE = (JobState.TIMEOUT, JobState.FAILED, JobState.CANCELLED, JobState.COMPLETED)
"""How an array's finished tasks make the job's final state: the first of these that any task has.

The settlement (``domain.ledger.settle``) treats one state apart: a job that timed out is charged at least its
time limit, because a task killed at its limit has run that long; failed, cancelled and completed jobs are
charged the time measured. So TIMEOUT comes first: whenever one task of an array hit its limit, the array is
billed as such, whatever its other tasks did (ranked lower, a failed or cancelled sibling would let the array
escape the floor its timed-out task incurred). FAILED comes before CANCELLED: a failure says something about
the job's work, while a cancel made through the gateway is recorded by the gateway itself (the job is cancelled
before any report arrives), so a cancelled aggregate only ever reports a cancel made outside it. Both backends
use this one rule.
"""


def aggregate(states: Iterable[JobState]) -> JobState:
    """A job's state from its tasks' states (one task for a job that is no array): finished when every task
    is, then by :data:`OUTCOME_PRECEDENCE`; running once any task has started (never back to queued)."""
    seen = set(states)
    if not seen:
        return JobState.QUEUED
    if seen <= TERMINAL:
        return next(state for state in OUTCOME_PRECEDENCE if state in seen)
    if JobState.RUNNING in seen or seen & TERMINAL:
        return JobState.RUNNING
    return JobState.QUEUED


def aggregate_exit_code(state: JobState, codes: Iterable[int | None]) -> int | None:
    """A finished job's exit code from its tasks' codes (in task order): the first non-zero one, else 0 when
    some task reported one; None while the job runs or when no task reported a code."""
    if state not in TERMINAL:
        return None
    known = [code for code in codes if code is not None]
    return next((code for code in known if code), known[0] if known else None)
