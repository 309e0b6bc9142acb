"""Registration, users, API tokens and authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ..domain.access import Page, PageRequest
from ..domain.accounts import Purpose
from ..domain.enums import OrgKind
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from ..domain.identity import ApiToken, Organization, User, normalize_country, normalize_email, normalize_sectors
from ..domain.notifications import check_language
from ..domain.teams import TokenScope
from . import scopes
from .account_links import send_link
from .audit import record, snapshot
from .context import Actor, found
from .ports import Clock, UnitOfWork

TOKEN_PREFIX = "aif_"
MAX_TOKEN_DAYS = 366


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


def _issue(uow: UnitOfWork, clock: Clock, user: User, name: str, ttl_days: int) -> IssuedToken:
    if not 1 <= ttl_days <= MAX_TOKEN_DAYS:
        raise InvalidInput.on("ttl_days", f"must be between 1 and {MAX_TOKEN_DAYS}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    tok = uow.tokens.add(
        ApiToken(
            user_id=user.stored_id,
            name=name[:100] or "token",
            token_hash=hash_token(secret),
            prefix=secret[:10],
            created_at=now,
            expires_at=now + timedelta(days=ttl_days),
        )
    )
    return IssuedToken(tok, secret)


def authenticate(uow: UnitOfWork, clock: Clock, secret: str) -> tuple[User, ApiToken]:
    """The user behind a bearer token; one message for unknown, expired and revoked alike. Reads only."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthorized("invalid API token")
    digest = hash_token(secret)
    tok = uow.tokens.by_hash(digest)
    if tok is None or not hmac.compare_digest(tok.token_hash, digest) or not tok.usable(clock.now()):
        raise Unauthorized("invalid, expired or revoked API token")
    user = uow.users.get(tok.user_id)
    if user is None or not user.active:
        raise Unauthorized("the token's user is deactivated")
    return user, tok


def token_needs_touch(tok: ApiToken, clock: Clock) -> bool:
    """last_used_at is kept to the nearest few minutes, so that reads do not write on every request."""
    return tok.last_used_at is None or clock.now() - tok.last_used_at > timedelta(minutes=5)


def touch_token(uow: UnitOfWork, clock: Clock, token_id: int) -> None:
    tok = uow.tokens.get(token_id)
    if tok is not None:
        tok.last_used_at = clock.now()
        uow.commit()


def _new_user(
    uow: UnitOfWork,
    clock: Clock,
    *,
    email: str,
    name: str,
    organization_id: int | None,
    is_operator: bool = False,
    is_reviewer: bool = False,
    is_org_admin: bool = False,
) -> User:
    email = normalize_email(email)
    if not name.strip():
        raise InvalidInput.on("name", "must not be empty")
    if uow.users.by_email(email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=name.strip(),
        organization_id=organization_id,
        is_operator=is_operator,
        is_reviewer=is_reviewer,
        is_org_admin=is_org_admin,
        created_at=clock.now(),
    )
    return uow.users.add(user)


def register(
    uow: UnitOfWork,
    clock: Clock,
    *,
    organization_name: str,
    kind: OrgKind,
    country: str,
    sectors: list[str],
    email: str,
    name: str,
    ttl_days: int = 90,
    password_hash: str | None = None,
    language: str = "en",
    verified: bool = False,
) -> tuple[Organization, User, IssuedToken]:
    """Self-service sign-up: a new organization and its first user (the organization's admin); the portal
    passes an argon2 ``password_hash`` (``services.sessions.hash_password``). The address is unverified until
    the person opens the link e-mailed now (``verified``: the demo's people, whose addresses are made up)."""
    org, user = enroll(
        uow,
        clock,
        organization_name=organization_name,
        kind=kind,
        country=country,
        sectors=sectors,
        email=email,
        name=name,
        password_hash=password_hash,
        language=language,
    )
    issued = _issue(uow, clock, user, "registration", ttl_days)
    if verified:
        user.email_verified_at = clock.now()
    else:
        send_link(uow, clock, user, Purpose.VERIFY)
    uow.commit()
    return org, user, issued


def enroll(
    uow: UnitOfWork,
    clock: Clock,
    *,
    organization_name: str,
    kind: OrgKind,
    country: str,
    sectors: list[str],
    email: str,
    name: str,
    password_hash: str | None = None,
    language: str = "en",
) -> tuple[Organization, User]:
    """A new organization and its first user, its admin, both audited, in the caller's transaction (not
    committed): what ``register`` and a first single sign-on (``services.sso``) share."""
    org_name = organization_name.strip()
    if not org_name:
        raise InvalidInput.on("organization.name", "must not be empty")
    if uow.organizations.by_name(org_name) is not None:
        raise Conflict(f"an organization named {org_name!r} already exists; ask its admin to add you")
    org = uow.organizations.add(
        Organization(
            name=org_name,
            kind=OrgKind(kind),
            country=normalize_country(country, "organization.country"),
            sectors=normalize_sectors(sectors),
            created_at=clock.now(),
        )
    )
    user = _new_user(uow, clock, email=email, name=name, organization_id=org.id, is_org_admin=True)
    user.password_hash = password_hash
    user.language = check_language(language)  # of e-mails and notifications: the portal's at sign-up
    actor = Actor(user)
    record(uow, clock, actor, "organization.registered", org, None, snapshot(org))
    record(uow, clock, actor, "user.created", user, None, snapshot(user))
    return org, user


def new_member(
    uow: UnitOfWork, clock: Clock, *, email: str, name: str, organization_id: int, language: str = "en"
) -> User:
    """A plain user of an existing organization (who accepted an invitation), audited, not committed."""
    user = _new_user(uow, clock, email=email, name=name, organization_id=organization_id)
    user.language = check_language(language)
    record(uow, clock, Actor(user), "user.created", user, None, snapshot(user))
    return user


def create_user(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    *,
    email: str,
    name: str,
    organization_id: int | None,
    is_reviewer: bool = False,
    is_operator: bool = False,
    is_org_admin: bool = False,
    ttl_days: int = 90,
) -> tuple[User, IssuedToken]:
    """Operators create anyone; an organization's admin creates plain users of that organization only."""
    if not actor.is_operator:
        if not actor.user.is_org_admin or organization_id != actor.user.organization_id:
            raise Forbidden("only operators, or the admin of that organization, can add users to it")
        if is_operator or is_reviewer:
            raise Forbidden("only operators can grant the operator or reviewer role")
    if organization_id is not None:
        found(uow.organizations.get(organization_id), "organization", organization_id)
    user = _new_user(
        uow,
        clock,
        email=email,
        name=name,
        organization_id=organization_id,
        is_reviewer=is_reviewer,
        is_operator=is_operator,
        is_org_admin=is_org_admin,
    )
    user.email_verified_at = clock.now()  # an operator or the organization's admin vouches for the address
    issued = _issue(uow, clock, user, "initial", ttl_days)
    record(uow, clock, actor, "user.created", user, None, snapshot(user))
    uow.commit()
    return user, issued


def bootstrap_operator(
    uow: UnitOfWork, clock: Clock, *, email: str, name: str, ttl_days: int = 90
) -> tuple[User, IssuedToken]:
    """The first operator, created from the CLI on the server's machine (database access is the credential)."""
    user = _new_user(uow, clock, email=email, name=name, organization_id=None, is_operator=True)
    user.email_verified_at = clock.now()  # the server's administrator vouches for the address
    issued = _issue(uow, clock, user, "bootstrap", ttl_days)
    record(uow, clock, None, "user.bootstrap_operator", user, None, snapshot(user))
    uow.commit()
    return user, issued


def _role_target(uow: UnitOfWork, actor: Actor, user_id: int, *, is_operator: bool | None, active: bool | None) -> User:
    """The user whose roles an operator may change as asked (operators only; not their own operator role or
    their own account)."""
    actor.require_operator()
    user = found(uow.users.get(user_id), "user", user_id)
    if user.id == actor.id and (is_operator is False or active is False):
        raise Conflict("operators cannot remove their own operator role or deactivate themselves")
    return user


def role_changes(
    uow: UnitOfWork,
    actor: Actor,
    user_id: int,
    *,
    is_reviewer: bool | None = None,
    is_operator: bool | None = None,
    active: bool | None = None,
    email_verified: bool | None = None,
) -> tuple[User, dict[str, bool]]:
    """What :func:`set_roles` would change, checked as it checks it, and nothing changed: the user and only the
    roles that differ (role -> its new value); an empty dict when everything already is as asked."""
    user = _role_target(uow, actor, user_id, is_operator=is_operator, active=active)
    asked = {"is_reviewer": is_reviewer, "is_operator": is_operator, "active": active, "email_verified": email_verified}
    return user, {role: value for role, value in asked.items() if value is not None and getattr(user, role) != value}


def set_roles(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    user_id: int,
    *,
    is_reviewer: bool | None = None,
    is_operator: bool | None = None,
    active: bool | None = None,
    email_verified: bool | None = None,
) -> User:
    """``email_verified``: an operator vouches for the address (a site without e-mail, a support case), or
    takes that back (the person verifies again from a new link)."""
    user = _role_target(uow, actor, user_id, is_operator=is_operator, active=active)
    before = snapshot(user)
    for attr, value in (("is_reviewer", is_reviewer), ("is_operator", is_operator), ("active", active)):
        if value is not None:
            setattr(user, attr, value)
    if email_verified is not None:
        user.email_verified_at = (user.email_verified_at or clock.now()) if email_verified else None
    record(uow, clock, actor, "user.roles_changed", user, before, snapshot(user))
    uow.commit()
    return user


def create_token(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    *,
    name: str,
    ttl_days: int = 90,
    scope: TokenScope = TokenScope.FULL,
    project_id: int | None = None,
) -> IssuedToken:
    """``scope``: what the token may do (services.scopes); a ``project`` token names one of the user's projects."""
    project_id = scopes.check_new_scope(uow, actor, scope, project_id)
    issued = _issue(uow, clock, actor.user, name, ttl_days)
    issued.token.scope, issued.token.scope_project_id = scope.value, project_id
    record(
        uow,
        clock,
        actor,
        "token.created",
        issued.token,
        None,
        snapshot(issued.token, ("name", "prefix", "expires_at", "scope", "scope_project_id")),
    )
    uow.commit()
    return issued


def revoke_token(uow: UnitOfWork, clock: Clock, actor: Actor, token_id: int) -> ApiToken:
    tok = uow.tokens.get(token_id)
    if tok is None or (tok.user_id != actor.id and not actor.is_operator):
        raise NotFound(f"token {token_id} not found")
    if tok.revoked_at is None:
        tok.revoked_at = clock.now()
        record(uow, clock, actor, "token.revoked", tok, None, {"revoked_at": tok.revoked_at.isoformat()})
        uow.commit()
    return tok


def list_users(
    uow: UnitOfWork,
    actor: Actor,
    page: PageRequest,
    *,
    organization_id: int | None = None,
    role: str | None = None,
) -> Page[User]:
    """Operators list everyone; other users only the members of their own organization."""
    if not actor.is_operator:
        if actor.user.organization_id is None:
            raise Forbidden("only operators and members of an organization can list users")
        if organization_id not in (None, actor.user.organization_id):
            raise Forbidden("you can only list the users of your own organization")
        organization_id = actor.user.organization_id
    return uow.users.list(page, organization_id=organization_id, role=role)
