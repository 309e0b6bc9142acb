"""A job: a validated spec plus its state history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..stored import Stored
from .retry import retry_delay
from .states import TERMINAL, JobState, check_move


@dataclass(eq=False, kw_only=True)
class JobEvent:
    """One transition, stored with its timestamp (the job's history)."""

    job_id: int | None = None
    at: datetime
    state: JobState
    detail: str = ""
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Job(Stored):
    project_id: int
    allocation_id: int
    resource_id: int
    submitted_by: int
    name: str
    spec: dict[str, Any]  # the document as the user gave it (validated), for display and resubmission
    backend: str
    tasks: int = 1
    reserved_gpu_seconds: int = 0  # the worst case (GPUs x nodes x time limit x tasks), while the job is open
    state: JobState = JobState.PENDING
    backend_id: str | None = None
    exit_code: int | None = None
    reason: str = ""
    idempotency_key: str | None = None
    comment: str = ""  # written into the backend's job, so a restart can find it after a crash
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    settled_at: datetime | None = None  # charged and released in the ledger
    # intents the reconciler carries out until the backend confirms them
    cancel_requested_at: datetime | None = None  # asked for; the job stays open until the backend has it
    cancel_requested_by: int | None = None
    submit_attempts: int = 0  # hand-overs the backend did not answer; retried with backoff
    next_attempt_at: datetime | None = None
    events: list[JobEvent] = field(default_factory=list)
    id: int | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def cancel_pending(self) -> bool:
        """A cancel was asked for and the backend has not confirmed it yet."""
        return self.cancel_requested_at is not None and not self.terminal

    def request_cancel(self, at: datetime, by: int) -> bool:
        """Note the intent (the first one counts); False when there is nothing to cancel or it was asked already."""
        if self.terminal or self.cancel_requested_at is not None:
            return False
        self.cancel_requested_at, self.cancel_requested_by = at, by
        return True

    def in_flight(self, now: datetime, orphan_after: timedelta) -> bool:
        """Its first hand-over may still be under way (no outcome recorded, younger than ``orphan_after``):
        nobody else may hand it over, nor conclude that the backend never got it."""
        return self.backend_id is None and self.submit_attempts == 0 and now - self.created_at <= orphan_after

    def handover_due(self, now: datetime, orphan_after: timedelta) -> bool:
        """The reconciler hands it (again) to the backend now: a retry whose backoff is over, or an interrupted
        first hand-over; never a job whose cancel was asked for."""
        if self.backend_id is not None or self.terminal or self.cancel_requested_at is not None:
            return False
        if self.submit_attempts:
            return self.next_attempt_at is None or self.next_attempt_at <= now
        return not self.in_flight(now, orphan_after)

    def handover_failed(self, at: datetime, reason: str) -> None:
        """The backend did not answer: try again after a backoff that grows with each attempt."""
        self.submit_attempts += 1
        self.next_attempt_at = at + retry_delay(self.submit_attempts)
        self.reason, self.updated_at = reason, at

    def handed_over(self, backend_id: str, at: datetime, detail: str) -> None:
        """The backend has it: its id is stored, and what an earlier failed attempt said is cleared."""
        self.backend_id, self.next_attempt_at, self.reason = backend_id, None, ""
        self.move(JobState.SUBMITTED, at, detail)

    def move(self, new: JobState, at: datetime, detail: str = "", *, exit_code: int | None = None) -> bool:
        """Record a transition (forward only). Returns False, changing nothing, when already there."""
        if new is self.state:
            return False
        check_move(self.state, new)
        self.state, self.updated_at = new, at
        if new is JobState.SUBMITTED or (self.submitted_at is None and new is not JobState.PENDING):
            self.submitted_at = self.submitted_at or at
        if new is JobState.RUNNING or (new in TERMINAL and self.started_at is None and new is not JobState.CANCELLED):
            self.started_at = self.started_at or at
        if new in TERMINAL:
            self.finished_at = at
            self.exit_code = exit_code if exit_code is not None else self.exit_code
            self.reason = detail or self.reason
        self.events.append(JobEvent(at=at, state=new, detail=detail))
        return True


@dataclass(frozen=True)
class JobRow:
    """What a jobs table shows of a job (read without its spec or history)."""

    id: int
    name: str
    state: JobState
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


def job_comment(site: str, job_id: int, nonce: str) -> str:
    """The mark written into the backend's job. The nonce (random, stored with the job) keeps two factories
    or two databases that share one Slurm cluster from ever taking each other's jobs for their own."""
    return f"aif:{site}:{job_id}:{nonce}"
