"""Sign-in throttling through the `limits` library: failures counted per account (the address typed, whether or
not it exists) and per client address, each in several moving windows (say 5 a minute, 10 in 15 minutes, 20 an
hour), so that a lockout grows longer as failures go on. The counters live in the storage the URI names
(``memory://``: this process; ``redis://...``: every worker). A lockout is :class:`TooManyAttempts` (429 with
Retry-After) and is the same whether or not the account exists."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..domain.errors import DomainError

TOO_MANY = "too many attempts: try again in {seconds} seconds"


class Kind(StrEnum):
    SIGNIN = "signin"  # failed sign-ins, and links that did not work
    MAIL = "mail"  # e-mails asked for (password reset, verification): every request counts


class Scope(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many requests"
    retry_after: int = 60

    @classmethod
    def waiting(cls, seconds: int) -> TooManyAttempts:
        error = cls(TOO_MANY.format(seconds=seconds))
        error.retry_after = seconds
        return error


@dataclass(frozen=True)
class Lockout:
    """A limit that one more attempt exhausted (what the audit log records)."""

    kind: str
    scope: str
    key: str
    limit: str
    retry_after: int
    id: int | None = None


@dataclass(frozen=True)
class Rules:
    """``limits`` strings (``"5/minute;10/15 minutes"``) per kind and scope."""

    signin_account: str = "5/minute;10/15 minutes;20/hour;50/day"
    signin_address: str = "20/minute;100/hour;500/day"
    mail_account: str = "3/15 minutes;10/day"
    mail_address: str = "10/hour;50/day"


def _key(value: str) -> str:
    return value.strip().lower()[:254]


class Throttle:
    """The limits of a process; its storage is opened on first use (none while the app is only built)."""

    def __init__(self, storage_uri: str = "memory://", rules: Rules | None = None):
        rules = rules or Rules()
        self.storage_uri = storage_uri
        self._rules: dict[tuple[Kind, Scope], list[RateLimitItem]] = {
            (Kind.SIGNIN, Scope.ACCOUNT): parse_many(rules.signin_account),
            (Kind.SIGNIN, Scope.ADDRESS): parse_many(rules.signin_address),
            (Kind.MAIL, Scope.ACCOUNT): parse_many(rules.mail_account),
            (Kind.MAIL, Scope.ADDRESS): parse_many(rules.mail_address),
        }
        self._limiter: MovingWindowRateLimiter | None = None

    @property
    def limiter(self) -> MovingWindowRateLimiter:
        if self._limiter is None:
            storage = storage_from_string(self.storage_uri)
            if not isinstance(storage, Storage):
                raise ValueError(f"{self.storage_uri!r}: an asynchronous storage; use a synchronous one")
            self._limiter = MovingWindowRateLimiter(storage)
        return self._limiter

    def _keyed(self, kind: Kind, account: str, address: str) -> list[tuple[Scope, str, RateLimitItem]]:
        out = []
        for scope, key in ((Scope.ACCOUNT, _key(account)), (Scope.ADDRESS, _key(address))):
            if key:
                out += [(scope, key, item) for item in self._rules[(kind, scope)]]
        return out

    def _wait(self, item: RateLimitItem, key: str, kind: Kind) -> int:
        reset = self.limiter.get_window_stats(item, kind.value, key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def check(self, kind: Kind, account: str, address: str) -> None:
        """Raise :class:`TooManyAttempts` (waiting for the longest exhausted limit) while any is exhausted."""
        keyed = self._keyed(kind, account, address)
        waits = [self._wait(item, key, kind) for _s, key, item in keyed if not self.limiter.test(item, kind.value, key)]
        if waits:
            raise TooManyAttempts.waiting(max(waits))

    def count(self, kind: Kind, account: str, address: str) -> list[Lockout]:
        """One more attempt against every limit; the limits it exhausted (each a lockout starting now)."""
        locked = []
        for scope, key, item in self._keyed(kind, account, address):
            self.limiter.hit(item, kind.value, key)
            if not self.limiter.test(item, kind.value, key):
                locked.append(Lockout(kind.value, scope.value, key, str(item), self._wait(item, key, kind)))
        return locked

    def forget(self, kind: Kind, account: str) -> None:
        """A successful sign-in clears the account's counters (never the client address's)."""
        for _scope, key, item in self._keyed(kind, account, ""):
            self.limiter.clear(item, kind.value, key)
