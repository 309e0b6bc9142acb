"""Portal sign-in: argon2id password hashes and server-side sessions (only a hash of the cookie is stored)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain.errors import Forbidden, InvalidInput, Unauthorized
from ..domain.identity import ApiToken, User, WebSession, check_password_rules, normalize_email
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


def hash_password(password: str, email: str = "", name: str = "") -> str:
    """The argon2id hash of a password the policy accepts (``domain.passwords``: sign-up, change, reset)."""
    check_password_rules(password, email, name)
    return _hasher.hash(password)


def set_password(
    uow: UnitOfWork, clock: Clock, actor: Actor, *, current: str | None, new: str, via_token_id: int | None = None
) -> None:
    """A user changes their own password; the current one is required when there is one. Ends their
    other sessions. ``via_token_id``: the API token the session doing this was opened with. A password that
    replaces none (or one bound to a token) is bound to that token: it signs in only while the token is
    valid, so a stolen token never turns into a lasting password. Replacing an unbound password (proven by
    typing it) keeps it unbound."""
    user = found(uow.users.get(actor.id), "user", actor.id)
    if user.password_hash is not None and not _verifies(user.password_hash, current or ""):
        raise InvalidInput.on("current", "wrong password")
    unbound = user.password_hash is not None and user.password_token_id is None
    user.password_hash = hash_password(new, user.email, user.name)
    user.password_token_id = None if unbound else via_token_id
    uow.web_sessions.end_all(actor.id, clock.now())
    record(uow, clock, actor, "user.password_set", user, None, None)
    uow.commit()


def _verifies(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class SignIn:
    """Who signed in, and the API token their authority comes from (a token typed in, or the token a
    password is bound to): the session ends when that token does."""

    user: User
    token: ApiToken | None = None


def _bound_token(uow: UnitOfWork, clock: Clock, user: User) -> ApiToken | None:
    """The token the user's password is bound to; Unauthorized when it is no longer valid."""
    if user.password_token_id is None:
        return None
    tok = uow.tokens.get(user.password_token_id)
    if tok is None or not tok.usable(clock.now()):
        raise Unauthorized(BAD_LOGIN)
    return tok


def check_password(uow: UnitOfWork, clock: Clock, email: str, password: str) -> SignIn:
    """The user with that e-mail and password; one message for every failure. Reads only."""
    try:
        user = uow.users.by_email(normalize_email(email))
    except InvalidInput:  # an invalid address is simply a wrong one here
        user = None
    ok = _verifies(user.password_hash if user and user.password_hash else _DUMMY, password[:1024])
    if user is None or user.password_hash is None or not ok or not user.active:
        raise Unauthorized(BAD_LOGIN)
    return SignIn(user, _bound_token(uow, clock, user))


def check_credentials(uow: UnitOfWork, clock: Clock, email: str, secret: str) -> SignIn:
    """A password, or an API token (``aif_…``) in the password field, signs in."""
    if secret.startswith(TOKEN_PREFIX) and not email.strip():
        user, tok = authenticate(uow, clock, secret.strip())
        if tok.scope != "full":  # a read-only, jobs or project token opens no portal session (services.scopes)
            raise Unauthorized("a token with a limited scope does not sign in to the portal")
        return SignIn(user, tok)
    return check_password(uow, clock, email, secret)


def token_for_password(
    uow: UnitOfWork, clock: Clock, *, email: str, password: str, name: str, ttl_days: int
) -> IssuedToken:
    """An API token for a person who proves their e-mail and password (``aifactory login --email``): the same
    check, and the same single answer for every failure, as the portal's sign-in. A password bound to a token
    mints none (the new token would outlive the one it came from)."""
    sign_in = check_password(uow, clock, email, password)
    if sign_in.token is not None:
        raise Forbidden(
            "this password was set in a portal session opened with an API token and is valid only as long as "
            "that token: use the token itself (aifactory login --token)"
        )
    return create_token(uow, clock, Actor(sign_in.user), name=name, ttl_days=ttl_days)


def open_session(uow: UnitOfWork, clock: Clock, sign_in: SignIn | User, policy: SessionPolicy) -> str:
    """A new session for the user; returns the cookie's secret (shown to the browser only). A session opened
    with a token ends no later than the token, and as soon as the token is revoked (see ``resolve``)."""
    if isinstance(sign_in, User):
        sign_in = SignIn(sign_in)
    user, tok = sign_in.user, sign_in.token
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    uow.web_sessions.add(
        WebSession(
            user_id=user.stored_id,
            token_hash=hash_secret(secret),
            created_at=now,
            last_seen_at=now,
            expires_at=min(now + policy.lifetime, tok.expires_at) if tok is not None else now + policy.lifetime,
            api_token_id=tok.id if tok is not None else None,
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
    if session.api_token_id is not None:
        tok = uow.tokens.get(session.api_token_id)
        if tok is None or not tok.usable(clock.now()):
            raise SessionExpired("the API token this session was opened with is revoked or expired")
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
