"""The tests' one stateful fake backend, and its accounting-capable variant.

:class:`FakeBackend` implements the whole ``Backend`` port in memory: it accepts jobs (ids "100", "101", ...),
reports the state a test sets in ``states``, cancels, measures the wall time a test puts in ``used``, finds jobs
by comment and records the accounts it provisions. A test can make it refuse jobs (``refuse``), be unreachable
(``down``: every call raises ``BackendUnavailable``) or "crash" right after it took a job (``crash_after_submit``).
It runs nothing, so it also serves tests that must never run anything (the OpenAPI fuzz). The conformance test
(tests/backends/test_backend_contract.py) holds it to the same contract as the real backends.

:class:`FakeScheduler` adds what a scheduler with accounting does (``AccountingBackend``), recording what it
was told.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from typing import ClassVar

from aifactory.domain.errors import InvalidInput
from aifactory.domain.jobs.execution import (
    BackendJob,
    BackendStatus,
    ExternalUsage,
    LogChunk,
    ProjectAccount,
    Stream,
    Usage,
)
from aifactory.domain.jobs.states import TERMINAL, JobState
from aifactory.services.ports import BackendUnavailable


class FakeBackend:
    name: ClassVar[str] = "fake"

    def __init__(self) -> None:
        self.jobs: dict[str, BackendJob] = {}
        self.states: dict[str, JobState] = {}
        self.used: dict[str, int] = {}  # seconds of wall time of the jobs a test says ran
        self.output: dict[str, bytes] = {}  # stdout of a job, as a test wrote it
        self.writing: set[str] = set()  # jobs whose output is still being written (their logs are not complete)
        self.accounts: list[ProjectAccount] = []
        self.status_calls = 0
        self.refuse: str | None = None  # submissions are refused with this reason
        self.down = False  # every call raises BackendUnavailable
        self.crash_after_submit = False  # SystemExit right after a job was taken (a server killed there)
        self._ids = itertools.count(100)
        self._lock = threading.Lock()

    def _reachable(self) -> None:
        if self.down:
            raise BackendUnavailable("the fake scheduler is down")

    def submit(self, job: BackendJob) -> str:
        self._reachable()
        if self.refuse:
            raise InvalidInput.on("container.image", self.refuse)
        with self._lock:
            backend_id = str(next(self._ids))
            self.jobs[backend_id], self.states[backend_id] = job, JobState.QUEUED
        if self.crash_after_submit:
            raise SystemExit("killed between 'submitted' and 'id stored'")
        return backend_id

    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]:
        self._reachable()
        self.status_calls += 1
        return {
            i: BackendStatus(self.states[i], 0 if self.states[i] is JobState.COMPLETED else None)
            for i in ids
            if i in self.states
        }

    def cancel(self, ids: Sequence[str]) -> None:
        self._reachable()
        for i in ids:
            if i in self.states and self.states[i] not in TERMINAL:
                self.states[i] = JobState.CANCELLED

    def logs(
        self, backend_id: str, job_dir: str, stream: Stream, offset: int = 0, *, task: int = 0, limit: int = 1 << 20
    ) -> LogChunk:
        if stream not in ("stdout", "stderr"):
            raise InvalidInput.on("stream", "must be stdout or stderr")
        text = self.output.get(backend_id, b"") if stream == "stdout" else b""
        data = text[offset : offset + limit]
        end = offset + len(data)
        return LogChunk(data, end, complete=backend_id not in self.writing and end >= len(text))

    def usage(self, ids: Sequence[str]) -> dict[str, Usage]:
        self._reachable()
        return {
            i: Usage(
                elapsed_seconds=self.used.get(i, 0), gpus=1, nodes=1, started_at=1.0e9 if self.used.get(i) else None
            )
            for i in ids
            if i in self.jobs
        }

    def find_by_comment(self, comment: str) -> str | None:
        self._reachable()
        return next((i for i, j in self.jobs.items() if j.comment == comment), None)

    def ensure_project(self, account: ProjectAccount) -> None:
        self._reachable()
        self.accounts.append(account)


class FakeScheduler(FakeBackend):
    """The fake plus a scheduler's own accounting (an ``AccountingBackend``), recording what it was told."""

    def __init__(self) -> None:
        super().__init__()
        self.told: list[tuple[str, str, object]] = []
        self.slurm_used: dict[str, int] = {}  # the scheduler's GPU-minute counter per account
        self.records: list[ExternalUsage] = []  # finished jobs in its accounting

    def set_low_priority(self, account: str, low: bool) -> None:
        self._reachable()
        self.told.append(("priority", account, low))

    def set_budget_limit(self, account: str, gpu_minutes: int | None) -> None:
        self._reachable()
        self.told.append(("limit", account, gpu_minutes))

    def account_gpu_minutes_used(self, account: str) -> int:
        self._reachable()
        return self.slurm_used.get(account, 0)

    def finished_jobs(self, accounts: Sequence[str], since: float) -> list[ExternalUsage]:
        self._reachable()
        return [r for r in self.records if r.account in accounts]
