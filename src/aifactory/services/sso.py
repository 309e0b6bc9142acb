"""Who a person who signed in through a provider is: the account-linking rules of single sign-on.

1. A provider's subject linked before finds its user, whatever e-mail address the provider sends now.
2. Otherwise only a VERIFIED e-mail address counts: it links an existing account with that address, or makes
   a new person. An unverified or missing address links nothing and makes no one (the same answer whether an
   account with it exists or not).
3. A new person joins the organization a provider rule names (groups/entitlements or the e-mail domain), as
   a plain member; with no rule matching they name a new organization on a short form and become its admin.

Every function runs one transaction and audits what it changed."""

from __future__ import annotations

from datetime import datetime

from ..domain.enums import OrgKind
from ..domain.errors import Conflict
from ..domain.identity import Organization, User
from ..domain.sso import AccountInactive, MissingEmail, OidcIdentity, ProviderPolicy, SsoLink, UnverifiedEmail
from .audit import record, snapshot
from .context import Actor
from .identity import enroll
from .ports import Clock, UnitOfWork

UNVERIFIED = (
    "your identity provider does not confirm that the e-mail address {email} is yours, so the factory cannot "
    "use it to sign you in: confirm the address with your provider (or ask its help desk), or sign in with "
    "your password"
)
NO_EMAIL = (
    "your identity provider sent no e-mail address: the factory needs one to sign you in the first time "
    "(allow the provider to share your e-mail address, then try again)"
)
DEACTIVATED = "this account is deactivated: ask the factory's operators"


def _usable(user: User | None) -> User:
    if user is None or not user.active:
        raise AccountInactive(DEACTIVATED)
    return user


def _verified_email(who: OidcIdentity) -> str:
    if who.email is None:
        raise MissingEmail(NO_EMAIL)
    if not who.email_verified:
        raise UnverifiedEmail(UNVERIFIED.format(email=who.email))
    return who.email


def _link(uow: UnitOfWork, clock: Clock, user: User, who: OidcIdentity, action: str) -> SsoLink:
    now = clock.now()
    link = uow.sso.add_link(SsoLink(who.provider, who.subject, user.stored_id, who.email, now, now))
    record(uow, clock, Actor(user), action, user, None, {"provider": who.provider, "subject": who.subject})
    return link


def linked_user(uow: UnitOfWork, clock: Clock, who: OidcIdentity) -> User | None:
    """Rule 1: the user a subject was linked to (its last sign-in noted), or None. Commits."""
    link = uow.sso.link(who.provider, who.subject)
    if link is None or link.id is None:
        return None
    user = _usable(uow.users.get(link.user_id))
    uow.sso.touch_link(link.id, clock.now(), who.email)
    record(uow, clock, Actor(user), "user.signed_in_sso", user, None, {"provider": who.provider})
    uow.commit()
    return user


def sign_in(uow: UnitOfWork, clock: Clock, policy: ProviderPolicy, who: OidcIdentity) -> User | None:
    """The user this person is (rules 1 to 3, linking or creating as they say); None: a new person whose
    organization no rule names, to be asked for (``join_with_new_organization``). Commits."""
    user = linked_user(uow, clock, who)
    if user is not None:
        return user
    email = _verified_email(who)
    existing = uow.users.by_email(email)
    if existing is not None:
        _link(uow, clock, _usable(existing), who, "user.sso_linked")
        existing.email_verified_at = existing.email_verified_at or clock.now()  # the provider verified it
        uow.commit()
        return existing
    org = _rule_organization(uow, policy, who)
    if org is None:
        return None
    user = uow.users.add(
        User(email=email, name=who.name, organization_id=org.id, created_at=clock.now(), email_verified_at=clock.now())
    )
    record(uow, clock, Actor(user), "user.created", user, None, {**snapshot(user), "via": who.provider})
    _link(uow, clock, user, who, "user.sso_linked")
    uow.commit()
    return user


def _rule_organization(uow: UnitOfWork, policy: ProviderPolicy, who: OidcIdentity) -> Organization | None:
    """The existing organization the provider's first matching rule names (a rule naming an organization
    that does not exist places no one: the person is asked instead)."""
    name = policy.organization_for(who)
    return uow.organizations.by_name(name) if name else None


def join_with_new_organization(
    uow: UnitOfWork,
    clock: Clock,
    who: OidcIdentity,
    *,
    organization_name: str,
    kind: OrgKind,
    country: str,
    sectors: list[str],
    name: str,
) -> User:
    """Rule 3's form: a new person names their new organization and becomes its admin, linked to the
    provider's subject. Refused when meanwhile the subject or the address was taken. Commits."""
    email = _verified_email(who)
    if uow.sso.link(who.provider, who.subject) is not None or uow.users.by_email(email) is not None:
        raise Conflict("you have signed in meanwhile: start the sign-in again")
    _, user = enroll(
        uow,
        clock,
        organization_name=organization_name,
        kind=kind,
        country=country,
        sectors=sectors,
        email=email,
        name=name.strip() or who.name,
    )
    user.email_verified_at = clock.now()  # the provider verified the address
    _link(uow, clock, user, who, "user.sso_linked")
    uow.commit()
    return user


def links_of(uow: UnitOfWork, user_id: int) -> list[SsoLink]:
    """The providers a user signs in with (their account page)."""
    return uow.sso.links_of(user_id)


def last_sign_in(links: list[SsoLink]) -> datetime | None:
    return max((link.last_sign_in_at for link in links), default=None)
