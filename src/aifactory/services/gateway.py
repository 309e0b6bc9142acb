"""The job gateway of one site: its backend and where its jobs' folders live (what the job use cases,
the settlement and the accounting pass share)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ..domain.jobs.execution import ProjectAccount
from ..domain.posix import RunAs
from .identities import IdentitySync
from .ports import Backend, BackendUnavailable, ConfiningBackend
from .storage_disk import StorageArea

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
    # POSIX identities (services.identities): jobs run as their owners; None: as the server's own user
    identities: IdentitySync | None = None
    # the operator declared one tenant (AIFACTORY_LOCAL_SINGLE_TENANT): unconfined jobs of every organization run
    single_tenant: bool = False
    # project storage and datasets (job inputs are resolved there); None: jobs take no inputs
    storage: StorageArea | None = None

    def job_dir(self, job_id: int) -> Path:
        return self.jobs_root / str(job_id)

    def keeps_tenants_apart(self) -> bool:
        """Whether several organizations' jobs may share the backend: it confines each job (a backend that cannot
        say is taken to), or the operator declared a single tenant. May probe the host once: call it outside
        transactions."""
        backend = self.backend
        return self.single_tenant or not isinstance(backend, ConfiningBackend) or backend.confines_tenants()

    def provision_account(self, account: str) -> None:
        """The project's scheduler account alone (idempotent; once per account and process): what the accounting
        pass sets up at acceptance, before any job has an owner to run as."""
        if account not in self._provisioned:
            users = (self.submit_user,) if self.submit_user and self.identities is None else ()
            self.backend.ensure_project(ProjectAccount(account, users))
            self._provisioned.add(account)

    def provision(self, account: str, run_as: RunAs | None = None) -> None:
        """The project's scheduler account (idempotent; once per account and process); with identities, also
        the job owner's identity and association (``IdentitySync.prepare``), never the one submit user."""
        self.provision_account(account)
        if self.identities is not None:
            if run_as is None:
                raise BackendUnavailable("the job's owner has no POSIX identity yet (the reconciler allocates it)")
            self.identities.prepare(run_as, account, self.backend)
