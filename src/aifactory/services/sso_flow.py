"""A sign-in through a provider, step by step (Authorization Code flow with PKCE; the provider's answers are
fetched by the interfaces through an adapter, never inside a transaction):

``start``   stores the request (only the SHA-256 of a fresh ``state``) and returns the state with the PKCE
            verifier and nonce derived from it under the site's key;
``take``    at the callback: the request the state names, started in this browser (the state also sits in
            its cookie), for this provider, not expired, and moved on at once, so that a replayed answer
            finds it taken;
``finish``  the provider's verified person through the linking rules (``services.sso``): signed in, or
            pending until they name their organization (``complete_pending``);
``redeem``  the command line client's one-time code, with the verifier only that client knows, for an
            ordinary API token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..domain.enums import OrgKind
from ..domain.errors import InvalidInput, Unauthorized
from ..domain.identity import User
from ..domain.sso import (
    OidcIdentity,
    ProviderPolicy,
    Purpose,
    RequestStatus,
    SsoRequest,
    StaleSignIn,
    derived,
    digest,
    s256,
)
from . import sso
from .context import Actor
from .identity import IssuedToken, create_token
from .ports import Clock, UnitOfWork

REQUEST_TTL = timedelta(minutes=10)  # time at the provider's sign-in page
PENDING_TTL = timedelta(minutes=30)  # time to fill in the first sign-in's form
CODE_TTL = timedelta(minutes=2)  # the CLI redeems its code at once
PURGE_AFTER = timedelta(days=1)
NOT_STARTED_HERE = "this sign-in was not started in this browser, or it has expired: please start it again"
TAKEN = "this sign-in was completed or refused already, or it has expired: please start it again"
BAD_CODE = "invalid, used or expired sign-in code: run `aifactory login --sso` again"
_CLI_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


@dataclass(frozen=True)
class CliRequest:
    """The command line client's part: its loopback port (RFC 8252), the S256 challenge of a verifier only
    it knows, and its own state."""

    port: int | None
    challenge: str
    state: str

    def check(self) -> CliRequest:
        if self.port is None or not 1024 <= self.port <= 65535:
            raise InvalidInput.on("port", "must be a port between 1024 and 65535")
        if len(self.challenge) != 43 or not _CLI_TOKEN.match(self.challenge):
            raise InvalidInput.on("challenge", "must be the S256 challenge of a verifier (43 characters)")
        if not _CLI_TOKEN.match(self.state):
            raise InvalidInput.on("state", "must be 16 to 128 characters of A-Z, a-z, 0-9, _ and -")
        return self


@dataclass(frozen=True)
class Started:
    """What the browser is sent to the provider with; ``state`` also goes into its cookie."""

    state: str
    verifier: str
    nonce: str


@dataclass(frozen=True)
class Outcome:
    """After the provider's answer: the user signed in (and, for the CLI, the code and where it goes), or
    a new person still to name their organization (``user`` None)."""

    request: SsoRequest
    user: User | None
    code: str | None = None


def secrets_of(key: str, state: str) -> Started:
    return Started(state, derived(key, state, "pkce"), derived(key, state, "nonce"))


def start(
    uow: UnitOfWork,
    clock: Clock,
    key: str,
    *,
    provider: str,
    next_path: str = "/",
    cli: CliRequest | None = None,
) -> Started:
    """A new sign-in with ``provider`` (stale ones are forgotten on the way). Commits."""
    now = clock.now()
    state = secrets.token_urlsafe(32)
    uow.sso.purge(now - PURGE_AFTER)
    uow.sso.add_request(
        SsoRequest(
            state_hash=digest(state),
            provider=provider,
            purpose=Purpose.CLI if cli else Purpose.PORTAL,
            status=RequestStatus.STARTED,
            next_path=next_path[:500],
            created_at=now,
            expires_at=now + REQUEST_TTL,
            cli_port=cli.check().port if cli else None,
            cli_challenge=cli.challenge if cli else None,
            cli_state=cli.state if cli else None,
        )
    )
    uow.commit()
    return secrets_of(key, state)


def _same_browser(state: str | None, cookie: str | None) -> str:
    if not state or not cookie or len(state) > 100 or not secrets.compare_digest(state, cookie):
        raise StaleSignIn(NOT_STARTED_HERE)
    return state


def take(uow: UnitOfWork, clock: Clock, *, provider: str, state: str | None, cookie: str | None) -> SsoRequest:
    """The callback's request: started in this browser for this provider, unexpired, and now taken (moved
    to FAILED until ``finish`` says otherwise). Commits."""
    request = uow.sso.request_by_state(digest(_same_browser(state, cookie)))
    if request is None or request.id is None or request.provider != provider:
        raise StaleSignIn(NOT_STARTED_HERE)
    if request.expires_at <= clock.now() or not uow.sso.move(request.id, RequestStatus.STARTED, RequestStatus.FAILED):
        raise StaleSignIn(TAKEN)
    uow.commit()
    return request


def _done(uow: UnitOfWork, clock: Clock, request: SsoRequest, user: User) -> Outcome:
    """The request DONE for ``user``; a CLI's request gets its one-time code. Commits."""
    code = secrets.token_urlsafe(32) if request.purpose is Purpose.CLI else None
    done = replace(
        request,
        status=RequestStatus.DONE,
        identity=None,
        user_id=user.stored_id,
        code_hash=digest(code) if code else None,
        code_expires_at=clock.now() + CODE_TTL if code else None,
    )
    uow.sso.save(done)
    uow.commit()
    return Outcome(done, user, code)


def finish(uow: UnitOfWork, clock: Clock, policy: ProviderPolicy, request: SsoRequest, who: OidcIdentity) -> Outcome:
    """The provider's verified person, through the linking rules: signed in, or pending (a new person whose
    organization no rule names). Refusals (``SsoRefused``) leave the request FAILED. Commits."""
    user = sso.sign_in(uow, clock, policy, who)
    if user is not None:
        return _done(uow, clock, request, user)
    pending = replace(request, status=RequestStatus.PENDING, identity=who)
    uow.sso.save(pending)
    uow.commit()
    return Outcome(pending, None)


def pending(uow: UnitOfWork, clock: Clock, cookie: str | None) -> SsoRequest:
    """The browser's sign-in that waits for the first sign-in's form. Reads only."""
    request = uow.sso.request_by_state(digest(cookie)) if cookie and len(cookie) <= 100 else None
    if request is None or request.status is not RequestStatus.PENDING or request.identity is None:
        raise StaleSignIn(NOT_STARTED_HERE)
    if request.created_at + PENDING_TTL <= clock.now():
        raise StaleSignIn(TAKEN)
    return request


def complete_pending(
    uow: UnitOfWork,
    clock: Clock,
    cookie: str | None,
    *,
    organization_name: str,
    kind: OrgKind,
    country: str,
    sectors: list[str],
    name: str,
) -> Outcome:
    """The first sign-in's form: the new person's new organization; the sign-in is then done. Commits."""
    request = pending(uow, clock, cookie)
    assert request.identity is not None and request.id is not None
    user = sso.join_with_new_organization(
        uow,
        clock,
        request.identity,
        organization_name=organization_name,
        kind=kind,
        country=country,
        sectors=sectors,
        name=name,
    )
    if not uow.sso.move(request.id, RequestStatus.PENDING, RequestStatus.DONE):
        raise StaleSignIn(TAKEN)
    return _done(uow, clock, request, user)


def redeem(uow: UnitOfWork, clock: Clock, *, code: str, verifier: str, ttl_days: int) -> IssuedToken:
    """An API token for the CLI that started the sign-in: its one-time code, once, unexpired, with the
    verifier whose S256 challenge it sent at the start. One answer for every failure. Commits."""
    now = clock.now()
    request = uow.sso.request_by_code(digest(code)) if 16 <= len(code) <= 128 else None
    if (
        request is None
        or request.id is None
        or request.user_id is None
        or request.cli_challenge is None
        or not _unexpired(request.code_expires_at, now)
        or not secrets.compare_digest(s256(verifier[:128]), request.cli_challenge)
        or not uow.sso.redeem(request.id, now)
    ):
        raise Unauthorized(BAD_CODE)
    user = uow.users.get(request.user_id)
    if user is None or not user.active:
        raise Unauthorized(BAD_CODE)
    return create_token(uow, clock, Actor(user), name=f"cli sso {request.provider}", ttl_days=ttl_days)


def _unexpired(at: datetime | None, now: datetime) -> bool:
    return at is not None and now < at
