"""Portal sign-in: argon2id password hashes and server-side sessions (only a hash of the cookie is stored)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain.errors import InvalidInput, Unauthorized
from ..domain.identity import User, WebSession, check_password_rules, normalize_email
from .audit import record
from .context import Actor, found
from .identity import TOKEN_PREFIX, IssuedToken, authenticate, create_token
from .ports import Clock, UnitOfWork

_hasher = PasswordHasher()  # argon2id, the library's (RFC 9106 low-memory) defaults
# verified when the e-mail is unknown, so that a wrong address costs as long as a wrong password
_DUMMY = _hasher.hash("not-a-password-of-anyone")
BAD_LOGIN = "wrong e-mail address or password"


class SessionExpired(Unauthorized):
    """The cookie names a session that ended (sign-out, idle or absolute timeout)."""


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=2)
    lifetime: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str, email: str = "") -> str:
    check_password_rules(password, email)
    return _hasher.hash(password)


def set_password(uow: UnitOfWork, clock: Clock, actor: Actor, *, current: str | None, new: str) -> None:
    """A user changes their own password; the current one is required when there is one. Ends their
    other sessions."""
    user = found(uow.users.get(actor.id), "user", actor.id)
    if user.password_hash is not None and not _verifies(user.password_hash, current or ""):
        raise InvalidInput.on("current", "wrong password")
    user.password_hash = hash_password(new, user.email)
    uow.web_sessions.end_all(actor.id, clock.now())
    record(uow, clock, actor, "user.password_set", user, None, None)
    uow.commit()


def _verifies(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(uow: UnitOfWork, email: str, password: str) -> User:
    """The user with that e-mail and password; one message for every failure. Reads only."""
    try:
        user = uow.users.by_email(normalize_email(email))
    except InvalidInput:  # an invalid address is simply a wrong one here
        user = None
    ok = _verifies(user.password_hash if user and user.password_hash else _DUMMY, password[:1024])
    if user is None or user.password_hash is None or not ok or not user.active:
        raise Unauthorized(BAD_LOGIN)
    return user


def check_credentials(uow: UnitOfWork, clock: Clock, email: str, secret: str) -> User:
    """A password, or an API token (``aif_…``) in the password field, signs in."""
    if secret.startswith(TOKEN_PREFIX) and not email.strip():
        return authenticate(uow, clock, secret.strip())[0]
    return check_password(uow, email, secret)


def token_for_password(
    uow: UnitOfWork, clock: Clock, *, email: str, password: str, name: str, ttl_days: int
) -> IssuedToken:
    """An API token for a person who proves their e-mail and password (``aifactory login --email``): the same
    check, and the same single answer for every failure, as the portal's sign-in."""
    user = check_password(uow, email, password)
    return create_token(uow, clock, Actor(user), name=name, ttl_days=ttl_days)


def open_session(uow: UnitOfWork, clock: Clock, user: User, policy: SessionPolicy) -> str:
    """A new session for the user; returns the cookie's secret (shown to the browser only)."""
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    uow.web_sessions.add(
        WebSession(
            user_id=user.stored_id,
            token_hash=hash_secret(secret),
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.lifetime,
        )
    )
    record(uow, clock, Actor(user), "user.signed_in", user, None, None)
    uow.commit()
    return secret


def resolve(uow: UnitOfWork, clock: Clock, secret: str, policy: SessionPolicy) -> tuple[User, WebSession]:
    """The signed-in user, or SessionExpired. Reads only; see ``needs_touch``."""
    if not secret or len(secret) > 100:
        raise Unauthorized("not signed in")
    session = uow.web_sessions.by_hash(hash_secret(secret))
    if session is None:
        raise Unauthorized("not signed in")
    if not session.live(clock.now(), policy.idle):
        raise SessionExpired("your session has expired: please sign in again")
    user = uow.users.get(session.user_id)
    if user is None or not user.active:
        raise SessionExpired("your account is deactivated")
    return user, session


def needs_touch(session: WebSession, clock: Clock, policy: SessionPolicy) -> bool:
    return clock.now() - session.last_seen_at > policy.touch_every


def touch(uow: UnitOfWork, clock: Clock, session_id: int) -> None:
    s = uow.web_sessions.get(session_id)
    if s is not None and s.ended_at is None:
        s.last_seen_at = clock.now()
        uow.commit()


def close_session(uow: UnitOfWork, clock: Clock, secret: str) -> None:
    s = uow.web_sessions.by_hash(hash_secret(secret)) if secret else None
    if s is not None and s.ended_at is None:
        s.ended_at = clock.now()
        uow.commit()
