"""The SQL unit of work: one transaction per use case, repositories on one session."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from . import catalog_repo as cr
from . import ledger_repo as lr
from . import repositories as r
from .engine import WRITE_OPTION


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()`` — anything not committed is rolled back on exit."""

    def __init__(self, session_factory: sessionmaker[Session], *, write: bool = True):
        self._factory = session_factory
        self._write = write
        self.session: Session | None = None

    def __enter__(self) -> SqlUnitOfWork:
        s = self.session = self._factory()
        if self._write:  # SQLite: take the write lock at BEGIN (see store.engine)
            s.connection(execution_options={WRITE_OPTION: True})
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
        self.notifications = lr.NotificationRepository(s)
        self.catalog = cr.CatalogRepository(s)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.session is not None
        # close() ends the transaction (rolling back anything uncommitted) without expiring loaded
        # objects, so results stay readable after the unit of work (e.g. while rendering a response).
        self.session.close()
        self.session = None

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()

    def flush(self) -> None:
        assert self.session is not None
        self.session.flush()

    def no_autoflush(self):  # type: ignore[no-untyped-def]
        """Reads that must not write pending changes first (checking references before they are stored)."""
        assert self.session is not None
        return self.session.no_autoflush


class SqlUnitOfWorkFactory:
    """Callable that yields a fresh unit of work: what services and the API receive."""

    def __init__(self, session_factory: sessionmaker[Session]):
        self.session_factory = session_factory

    def __call__(self, *, write: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory, write=write)
