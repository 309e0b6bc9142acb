"""An inert backend for tests that must never run anything (the OpenAPI fuzz): it accepts jobs, reports them
queued, cancels them, and has no logs. It implements the whole Backend protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from aifactory.backends.base import BackendJob, BackendStatus, LogChunk, ProjectAccount, Stream, Usage
from aifactory.domain.jobs.states import JobState


class InertBackend:
    name: ClassVar[str] = "inert"

    def __init__(self) -> None:
        self.jobs: dict[str, BackendJob] = {}
        self.states: dict[str, JobState] = {}
        self.accounts: list[ProjectAccount] = []

    def submit(self, job: BackendJob) -> str:
        backend_id = f"inert-{job.job_id}"
        self.jobs[backend_id], self.states[backend_id] = job, JobState.QUEUED
        return backend_id

    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]:
        return {i: BackendStatus(self.states[i]) for i in ids if i in self.states}

    def cancel(self, ids: Sequence[str]) -> None:
        for i in ids:
            if i in self.states:
                self.states[i] = JobState.CANCELLED

    def logs(
        self, backend_id: str, job_dir: str, stream: Stream, offset: int = 0, *, task: int = 0, limit: int = 1 << 20
    ) -> LogChunk:
        return LogChunk(b"", offset, complete=True)

    def usage(self, ids: Sequence[str]) -> dict[str, Usage]:
        return {i: Usage(elapsed_seconds=0, gpus=0, nodes=1) for i in ids if i in self.states}

    def find_by_comment(self, comment: str) -> str | None:
        return next((i for i, j in self.jobs.items() if j.comment == comment), None)

    def ensure_project(self, account: ProjectAccount) -> None:
        self.accounts.append(account)
