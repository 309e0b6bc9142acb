"""What the services need from the outside world, as Protocols (the store implements them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol


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
    """One transaction. Repositories are attributes; see ``store.repositories`` for their queries."""

    organizations: Any
    users: Any
    tokens: Any
    sites: Any
    resources: Any
    calls: Any
    proposals: Any
    assignments: Any
    reviews: Any
    projects: Any
    allocations: Any
    audit: Any
    jobs: Any
    ledger: Any
    notifications: Any
    catalog: Any
    web_sessions: Any

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def flush(self) -> None: ...
    def no_autoflush(self) -> Any: ...  # a context: reads inside it do not write pending changes first


class UnitOfWorkFactory(Protocol):
    """What the services receive to open transactions: ``with uow_factory() as uow: ...``
    (``write=False`` for read-only work)."""

    def __call__(self, *, write: bool = True) -> UnitOfWork: ...
