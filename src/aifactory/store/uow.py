"""The SQL unit of work: one transaction per use case, repositories on one session."""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from ..services.ports import StoreUnavailable
from . import account_repo as ar
from . import attachment_repo as atr
from . import catalog_repo as cr
from . import ledger_repo as lr
from . import notification_repo as nr
from . import posix_repo as pr
from . import repositories as r
from . import sso_repo as so
from . import storage_repo as sr
from . import team_repo as tr
from .engine import WRITE_OPTION
from .report_repo import ReportRepository
from .usage_import_repo import UsageImportRepository

if TYPE_CHECKING:
    from ..services.ports import UnitOfWorkFactory

# the driver's errors that mean "the database cannot answer now", not "this statement is wrong"
UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError)


def unavailable(exc: BaseException) -> StoreUnavailable:
    """The port's error for a driver error of ``UNAVAILABLE`` (its first line kept, no statement or values)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
    return StoreUnavailable(f"{type(cause).__name__}: {first}")


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()`` — anything not committed is rolled back on exit. The repositories
    exist inside the ``with`` only (each on that transaction's session)."""

    organizations: r.OrganizationRepository
    users: r.UserRepository
    tokens: r.TokenRepository
    web_sessions: r.WebSessionRepository
    sites: r.SiteRepository
    resources: r.ResourceRepository
    calls: r.CallRepository
    proposals: r.ProposalRepository
    assignments: r.AssignmentRepository
    reviews: r.ReviewRepository
    projects: r.ProjectRepository
    allocations: r.AllocationRepository
    audit: r.AuditRepository
    jobs: r.JobRepository
    ledger: lr.LedgerRepository
    notifications: nr.NotificationRepository
    catalog: cr.CatalogRepository
    reports: ReportRepository
    usage_imports: UsageImportRepository
    posix: pr.PosixRepository
    sso: so.SsoRepository
    account_tokens: ar.AccountTokenRepository
    teams: tr.TeamRepository
    storage: sr.StorageRepository
    attachments: atr.AttachmentRepository

    def __init__(self, session_factory: sessionmaker[Session], *, write: bool = True):
        self._factory = session_factory
        self._write = write
        self.session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        s = self.session = self._factory()
        if self._write:  # SQLite: take the write lock at BEGIN (see store.engine)
            try:
                s.connection(execution_options={WRITE_OPTION: True})
            except UNAVAILABLE as exc:
                s.close()
                self.session = None
                raise unavailable(exc) from exc
        self.organizations = r.OrganizationRepository(s)
        self.users = r.UserRepository(s)
        self.tokens = r.TokenRepository(s)
        self.web_sessions = r.WebSessionRepository(s)
        self.sites = r.SiteRepository(s)
        self.resources = r.ResourceRepository(s)
        self.calls = r.CallRepository(s)
        self.proposals = r.ProposalRepository(s)
        self.assignments = r.AssignmentRepository(s)
        self.reviews = r.ReviewRepository(s)
        self.projects = r.ProjectRepository(s)
        self.allocations = r.AllocationRepository(s)
        self.audit = r.AuditRepository(s)
        self.jobs = r.JobRepository(s)
        self.ledger = lr.LedgerRepository(s)
        self.notifications = nr.NotificationRepository(s)
        self.catalog = cr.CatalogRepository(s)
        self.reports = ReportRepository(s)
        self.usage_imports = UsageImportRepository(s)
        self.posix = pr.PosixRepository(s)
        self.sso = so.SsoRepository(s)
        self.account_tokens = ar.AccountTokenRepository(s)
        self.teams = tr.TeamRepository(s)
        self.storage = sr.StorageRepository(s)
        self.attachments = atr.AttachmentRepository(s)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.session is not None
        # close() ends the transaction (rolling back anything uncommitted) without expiring loaded
        # objects, so results stay readable after the unit of work (e.g. while rendering a response).
        try:
            self.session.close()
        except UNAVAILABLE:
            if exc is None:
                raise
        finally:
            self.session = None
        if isinstance(exc, UNAVAILABLE):  # the driver's error leaves as the port's (services know no SQL)
            raise unavailable(exc) from exc

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()

    def flush(self) -> None:
        assert self.session is not None
        self.session.flush()

    def no_autoflush(self) -> AbstractContextManager[Session]:
        """Reads that must not write pending changes first (checking references before they are stored)."""
        assert self.session is not None
        return self.session.no_autoflush


class SqlUnitOfWorkFactory:
    """Callable that yields a fresh unit of work: what services and the API receive."""

    def __init__(self, session_factory: sessionmaker[Session]):
        self.session_factory = session_factory

    def __call__(self, *, write: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory, write=write)


if TYPE_CHECKING:

    def _conforms(factory: SqlUnitOfWorkFactory) -> UnitOfWorkFactory:
        """Never called: mypy checks here that the SQL unit of work (and each of its repositories) is what
        the services' Protocols ask for."""
        return factory
