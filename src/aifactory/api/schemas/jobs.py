from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from ...domain.jobs.states import JobState
from .common import In, Out


class JobEventOut(Out):
    at: datetime
    state: JobState
    detail: str


class JobOut(Out):
    id: int
    project_id: int
    allocation_id: int
    resource_id: int
    submitted_by: int
    name: str
    state: JobState
    backend: str
    backend_id: str | None
    tasks: int
    exit_code: int | None
    reason: str
    idempotency_key: str | None
    created_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None = Field(
        default=None, description="a cancel was asked for; while the job is open, it waits for the scheduler"
    )
    submit_attempts: int = Field(default=0, description="hand-overs the scheduler did not answer (retried)")
    next_attempt_at: datetime | None = Field(default=None, description="when a pending job is handed over again")
    spec: dict[str, Any] = Field(description="the spec as submitted")
    events: list[JobEventOut] = Field(description="every transition, oldest first")


class ArtifactOut(Out):
    path: str = Field(description="relative to the job's working directory; download from …/artifacts/{path}")
    size: int
    modified_at: datetime
    sha256: str | None = Field(default=None, description="with ?checksums=true")


class JobSaveIn(In):
    path: str = Field(min_length=1, max_length=1024, description="one of the job's artifacts")
    to: str = Field(min_length=1, max_length=1024, description="its name in the project's storage (e.g. results/x)")
