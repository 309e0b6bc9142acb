"""Accounts that hold: sign-in and the e-mailed links under throttling (``services.throttle``), e-mail
verification and password reset. Each use case takes the unit-of-work factory: a lockout is audited in a
transaction of its own, whatever happens to the attempt."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..domain.accounts import BadLink, Purpose
from ..domain.errors import Conflict, Unauthorized
from ..domain.identity import User, normalize_email
from .account_links import open_link, send_link, use_link
from .audit import record
from .context import Actor, found
from .identity import IssuedToken
from .ports import Clock, UnitOfWork, UnitOfWorkFactory
from .sessions import SignIn, check_credentials, hash_password
from .sessions import token_for_password as _token_for_password
from .throttle import Kind, Lockout, Throttle

T = TypeVar("T")


def _audit(uow_factory: UnitOfWorkFactory, clock: Clock, lockouts: list[Lockout]) -> None:
    with uow_factory(write=True) as uow:
        for lockout in lockouts:
            after = {"kind": lockout.kind, "scope": lockout.scope, "key": lockout.key, "limit": lockout.limit}
            record(uow, clock, None, "auth.locked_out", lockout, None, {**after, "retry_after": lockout.retry_after})
        uow.commit()


def _guarded(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    throttle: Throttle,
    account: str,
    address: str,
    attempt: Callable[[UnitOfWork], T],
    *,
    write: bool,
) -> T:
    """``attempt`` unless the account or the client address is locked out; a failed attempt (a wrong password,
    a link that does not work) counts, and a success clears the account's counters."""
    throttle.check(Kind.SIGNIN, account, address)
    try:
        with uow_factory(write=write) as uow:
            result = attempt(uow)
    except (Unauthorized, BadLink):
        if lockouts := throttle.count(Kind.SIGNIN, account, address):
            _audit(uow_factory, clock, lockouts)
        raise
    throttle.forget(Kind.SIGNIN, account)
    return result


def _mail_asked(uow_factory: UnitOfWorkFactory, clock: Clock, throttle: Throttle, account: str, address: str) -> None:
    """Every e-mail asked for counts, whether or not the account exists."""
    throttle.check(Kind.MAIL, account, address)
    if lockouts := throttle.count(Kind.MAIL, account, address):
        _audit(uow_factory, clock, lockouts)


def sign_in(
    uow_factory: UnitOfWorkFactory, clock: Clock, throttle: Throttle, *, email: str, secret: str, address: str
) -> SignIn:
    """The portal's sign-in (a password, or an API token in the password field), throttled."""
    return _guarded(
        uow_factory,
        clock,
        throttle,
        email,
        address,
        lambda uow: check_credentials(uow, clock, email, secret),
        write=False,
    )


def token_for_password(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    throttle: Throttle,
    *,
    email: str,
    password: str,
    name: str,
    ttl_days: int,
    address: str,
) -> IssuedToken:
    """``POST /auth/token``: the same throttling as the portal's sign-in."""

    def attempt(uow: UnitOfWork) -> IssuedToken:
        return _token_for_password(uow, clock, email=email, password=password, name=name, ttl_days=ttl_days)

    return _guarded(uow_factory, clock, throttle, email, address, attempt, write=True)


def request_reset(
    uow_factory: UnitOfWorkFactory, clock: Clock, throttle: Throttle, *, email: str, address: str
) -> None:
    """A password-reset link to the address if an active account has it; the same answer (none) either way."""
    normalized = normalize_email(email)  # a malformed address is refused: that says nothing about accounts
    _mail_asked(uow_factory, clock, throttle, normalized, address)
    with uow_factory(write=True) as uow:
        user = uow.users.by_email(normalized)
        if user is not None and user.active:
            send_link(uow, clock, user, Purpose.RESET)
            record(uow, clock, None, "user.password_reset_asked", user, None, None)
            uow.commit()


def reset_link_user(
    uow_factory: UnitOfWorkFactory, clock: Clock, throttle: Throttle, *, secret: str, address: str
) -> User:
    """Whose password a reset link would set (the portal's form shows it), while the link works."""
    return _guarded(
        uow_factory,
        clock,
        throttle,
        "",
        address,
        lambda uow: open_link(uow, clock, secret, Purpose.RESET)[1],
        write=False,
    )


def reset_password(
    uow_factory: UnitOfWorkFactory, clock: Clock, throttle: Throttle, *, secret: str, new: str, address: str
) -> User:
    """A new password from a reset link (the policy applies before the link is spent). Every session of the
    person ends, other reset links stop working, and the address counts as verified (the mail was read)."""

    def attempt(uow: UnitOfWork) -> User:
        _, user = open_link(uow, clock, secret, Purpose.RESET)
        password_hash = hash_password(new, user.email, user.name)
        use_link(uow, clock, secret, Purpose.RESET)
        now = clock.now()
        user.password_hash, user.password_token_id = password_hash, None
        user.email_verified_at = user.email_verified_at or now
        uow.web_sessions.end_all(user.stored_id, now)
        uow.account_tokens.retire(user.stored_id, Purpose.RESET, now)
        record(uow, clock, Actor(user), "user.password_reset", user, None, None)
        uow.commit()
        return user

    return _guarded(uow_factory, clock, throttle, "", address, attempt, write=True)


def verify_email(
    uow_factory: UnitOfWorkFactory, clock: Clock, throttle: Throttle, *, secret: str, address: str
) -> User:
    """The link e-mailed at sign-up: the address is verified (once; a used link does not work again)."""

    def attempt(uow: UnitOfWork) -> User:
        user = use_link(uow, clock, secret, Purpose.VERIFY)
        if user.email_verified_at is None:
            user.email_verified_at = clock.now()
            record(uow, clock, Actor(user), "user.email_verified", user, None, {"email": user.email})
        uow.commit()
        return user

    return _guarded(uow_factory, clock, throttle, "", address, attempt, write=True)


def resend_verification(
    uow_factory: UnitOfWorkFactory, clock: Clock, throttle: Throttle, actor: Actor, *, address: str
) -> None:
    """A new verification link (older ones stop working); refused once the address is verified."""
    if actor.user.email_verified_at is not None:
        raise Conflict("your e-mail address is verified already")
    _mail_asked(uow_factory, clock, throttle, actor.user.email, address)
    with uow_factory(write=True) as uow:
        user = found(uow.users.get(actor.id), "user", actor.id)
        if user.email_verified_at is not None:
            raise Conflict("your e-mail address is verified already")
        send_link(uow, clock, user, Purpose.VERIFY)
        uow.commit()
