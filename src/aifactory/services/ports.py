"""What the services need from the outside world, as Protocols (the store implements them)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import TracebackType
from typing import ClassVar, Protocol, runtime_checkable

from ..domain.jobs.execution import BackendJob, BackendStatus, ExternalUsage, LogChunk, ProjectAccount, Stream, Usage
from ..domain.posix import PosixGroup, PosixUser
from . import repositories as r


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and demos: starts at ``at``, moves only when told."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**kwargs)


class UnitOfWork(Protocol):
    """One transaction. Its repositories are read-only attributes, one Protocol each (``services.repositories``)."""

    @property
    def organizations(self) -> r.OrganizationRepository: ...
    @property
    def users(self) -> r.UserRepository: ...
    @property
    def tokens(self) -> r.TokenRepository: ...
    @property
    def sites(self) -> r.SiteRepository: ...
    @property
    def resources(self) -> r.ResourceRepository: ...
    @property
    def calls(self) -> r.CallRepository: ...
    @property
    def proposals(self) -> r.ProposalRepository: ...
    @property
    def assignments(self) -> r.AssignmentRepository: ...
    @property
    def reviews(self) -> r.ReviewRepository: ...
    @property
    def projects(self) -> r.ProjectRepository: ...
    @property
    def allocations(self) -> r.AllocationRepository: ...
    @property
    def audit(self) -> r.AuditRepository: ...
    @property
    def jobs(self) -> r.JobRepository: ...
    @property
    def ledger(self) -> r.LedgerRepository: ...
    @property
    def notifications(self) -> r.NotificationRepository: ...
    @property
    def catalog(self) -> r.CatalogRepository: ...
    @property
    def web_sessions(self) -> r.WebSessionRepository: ...
    @property
    def reports(self) -> r.ReportRepository: ...
    @property
    def usage_imports(self) -> r.UsageImportRepository: ...
    @property
    def posix(self) -> r.PosixRepository: ...
    @property
    def sso(self) -> r.SsoRepository: ...
    @property
    def account_tokens(self) -> r.AccountTokenRepository: ...
    @property
    def teams(self) -> r.TeamRepository: ...
    @property
    def storage(self) -> r.StorageRepository: ...
    @property
    def attachments(self) -> r.AttachmentRepository: ...

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...
    def flush(self) -> None: ...
    def no_autoflush(self) -> AbstractContextManager[object]: ...  # reads inside do not write pending changes first


class UnitOfWorkFactory(Protocol):
    """What the services receive to open transactions: ``with uow_factory() as uow: ...``
    (``write=False`` for read-only work)."""

    def __call__(self, *, write: bool = True) -> UnitOfWork: ...


class StoreUnavailable(Exception):
    """The database cannot be reached or cannot answer now (server down, connection lost, pool exhausted,
    SQLite locked or failing): the unit of work raises it in place of the driver's error, and whatever the
    transaction held was rolled back. The API answers 503 with Retry-After; the portal a 503 page."""

    retry_after_seconds: ClassVar[int] = 5


# ---------------------------------------------------------------- the backend port (a scheduler that runs jobs)


class BackendUnavailable(Exception):
    """The one error the services see from a scheduler that cannot be reached or cannot act now (controller
    down, its database away, a command that timed out or could not be started): nothing was done, the same
    call may succeed later. The backends raise it (wrapping their own errors as its cause); the reconciler
    retries, and the API answers 503 with Retry-After."""

    retry_after_seconds: ClassVar[int] = 30


@runtime_checkable
class Backend(Protocol):
    """What every backend does: scheduler I/O over lists of ids, no policy. Every method may raise
    :class:`BackendUnavailable`; ``submit`` raises ``InvalidInput`` when the scheduler refuses the job itself.
    Backends get their collaborators in ``__init__`` (or ``from_settings``) and do no I/O there."""

    name: ClassVar[str]

    def submit(self, job: BackendJob) -> str: ...
    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]:
        """States of the given jobs; ids the backend does not know are left out."""
        ...

    def cancel(self, ids: Sequence[str]) -> None: ...
    def logs(
        self, backend_id: str, job_dir: str, stream: Stream, offset: int = 0, *, task: int = 0, limit: int = 1 << 20
    ) -> LogChunk: ...

    def usage(self, ids: Sequence[str]) -> dict[str, Usage]: ...
    def find_by_comment(self, comment: str) -> str | None: ...
    def ensure_project(self, account: ProjectAccount) -> None: ...


@runtime_checkable
class PriorityBackend(Backend, Protocol):
    """A backend that can run an account's new jobs after everyone else's (the soft policy's low priority)."""

    def set_low_priority(self, account: str, low: bool) -> None:
        """``low``: the account's new jobs run after everyone else's; else normally again. Idempotent."""
        ...


@runtime_checkable
class AccountingBackend(PriorityBackend, Protocol):
    """A scheduler with accounting of its own (Slurm): the ledger imports jobs run outside the gateway and keeps
    a hard GPU-minute limit the scheduler enforces itself."""

    def finished_jobs(self, accounts: Sequence[str], since: float) -> list[ExternalUsage]:
        """Every finished job of those accounts since a POSIX time, any user, also jobs not submitted here."""
        ...

    def set_budget_limit(self, account: str, gpu_minutes: int | None) -> None:
        """A hard GPU-minute limit the scheduler enforces itself (None clears it); idempotent."""
        ...

    def account_gpu_minutes_used(self, account: str) -> int:
        """The scheduler's own usage counter that limit is compared with (limit = used + what is still allowed)."""
        ...


@runtime_checkable
class MembershipBackend(Backend, Protocol):
    """A scheduler whose accounts list the users allowed to run jobs in them (Slurm's associations)."""

    def set_account_users(self, account: str, users: Sequence[str]) -> None:
        """The account's user associations are exactly ``users`` afterwards (missing ones added, others removed);
        idempotent."""
        ...


@runtime_checkable
class ConfiningBackend(Protocol):
    """A backend that can tell whether it confines each job (the local executor: only inside its sandbox). One
    that cannot tell is taken to confine them."""

    def confines_tenants(self) -> bool:
        """Whether jobs of different organizations may share it; may probe the host once (never in a transaction)."""
        ...


# ---------------------------------------------------------------- the identity port (a directory of POSIX accounts)


class ProvisioningFailed(BackendUnavailable):
    """The directory (this machine's accounts, LDAP) could not make an identity exist now, or holds a
    conflicting one (a name or id taken by another entry). The job waits; the reconciler tries again."""


class IdentityProvisioner(Protocol):
    """Makes POSIX identities exist where jobs run (``aifactory.identity``: one class per kind). Every method is
    idempotent and raises :class:`ProvisioningFailed`; no I/O happens in ``__init__``."""

    kind: ClassVar[str]

    def ensure_group(self, group: PosixGroup) -> None:
        """The group exists with this name and gid (its members are set per user, by ``ensure_user``)."""
        ...

    def ensure_user(self, user: PosixUser, groups: Sequence[PosixGroup]) -> None:
        """The user exists (primary group: a private group of its own name, gid = uid) and is a member of
        exactly ``groups`` among the factory's groups (they exist already)."""
        ...
