"""The single-use links e-mailed to verify an address or to reset a password: only the SHA-256 of a link's token
is stored; a newer link retires the older ones; a link is used by compare-and-set."""

from __future__ import annotations

import hashlib
import secrets

from ..domain.accounts import BAD_LINK, LIFETIME, LINK_PATH, AccountToken, BadLink, Purpose, check_link
from ..domain.identity import User
from .notifications import notify_address
from .ports import Clock, UnitOfWork

EVENTS = {Purpose.VERIFY: "verify-email", Purpose.RESET: "password-reset"}
MAX_TOKEN = 200


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def send_link(uow: UnitOfWork, clock: Clock, user: User, purpose: Purpose) -> AccountToken:
    """A new link for ``user`` (earlier ones of that purpose stop working), e-mailed in their language by the
    delivery worker. In the caller's transaction (not committed)."""
    now = clock.now()
    uow.account_tokens.retire(user.stored_id, purpose, now)
    secret = secrets.token_urlsafe(32)
    token = uow.account_tokens.add(
        AccountToken(
            user_id=user.stored_id,
            purpose=purpose,
            token_hash=token_hash(secret),
            email=user.email,
            created_at=now,
            expires_at=now + LIFETIME[purpose],
        )
    )
    event = EVENTS[purpose]
    notify_address(
        uow,
        clock,
        user.email,
        event,
        {"expires": token.expires_at.strftime("%Y-%m-%d %H:%M UTC")},
        dedup_key=f"{event}:{token.id}",
        language=user.language,
        secret={"path": f"{LINK_PATH[purpose]}?token={secret}"},
    )
    return token


def open_link(uow: UnitOfWork, clock: Clock, secret: str, purpose: Purpose) -> tuple[AccountToken, User]:
    """The link's token and its user while the link works (reads only); one error for every other case."""
    if not secret or len(secret) > MAX_TOKEN:
        raise BadLink.on("token", BAD_LINK)
    token = check_link(uow.account_tokens.by_hash(token_hash(secret)), clock.now(), purpose)
    user = uow.users.get(token.user_id)
    if user is None or not user.active or user.email != token.email:
        raise BadLink.on("token", BAD_LINK)
    return token, user


def use_link(uow: UnitOfWork, clock: Clock, secret: str, purpose: Purpose) -> User:
    """Spend a link, once (a second click, or a race, finds it used); returns its user. Not committed."""
    token, user = open_link(uow, clock, secret, purpose)
    if not uow.account_tokens.use(token.id or 0, clock.now()):
        raise BadLink.on("token", BAD_LINK)
    return user
