"""The job gateway of one site: its backend and where its jobs' folders live (what the job use cases,
the settlement and the accounting pass share)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ..domain.jobs.execution import ProjectAccount
from .ports import Backend

ORPHAN_AFTER = timedelta(seconds=120)  # a job without backend id this old was interrupted (> a submit's timeout)


@dataclass(frozen=True)
class Gateway:
    """The collaborators of the job use cases for one site."""

    backend: Backend
    backend_name: str
    site: str
    jobs_root: Path
    submit_user: str | None = None  # the Unix user that submits (associated with every project's account)
    orphan_after: timedelta = ORPHAN_AFTER
    # a fault-injection point for the crash tests (set only when AIFACTORY_ENV=test)
    after_backend_submit: Callable[[], None] | None = None
    _provisioned: set[str] = field(default_factory=set, compare=False, repr=False)

    def job_dir(self, job_id: int) -> Path:
        return self.jobs_root / str(job_id)

    def provision(self, account: str) -> None:
        """The project's scheduler account (idempotent; once per account and process)."""
        if account not in self._provisioned:
            users = (self.submit_user,) if self.submit_user else ()
            self.backend.ensure_project(ProjectAccount(account, users))
            self._provisioned.add(account)
