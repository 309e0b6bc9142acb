"""A job: a validated spec plus its state history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..stored import Stored
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
    events: list[JobEvent] = field(default_factory=list)
    id: int | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

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
