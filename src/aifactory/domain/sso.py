"""Single sign-on through an institution's OpenID Connect provider: the claims a provider vouches for, the
link between a provider's subject and a user, the rules that place a new person in an organization, and
the one-time values of a sign-in (state, PKCE verifier, nonce, the CLI's code). No I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import Forbidden, InvalidInput

PROVIDER_NAME = r"^[a-z0-9][a-z0-9-]{0,31}$"
_PROVIDER_NAME = re.compile(PROVIDER_NAME)


class SsoRefused(Forbidden):
    """A sign-in the factory will not complete (the message says why, without naming other accounts)."""


class UnverifiedEmail(SsoRefused):
    """The provider does not vouch for the address: it links nothing and makes no one."""


class MissingEmail(SsoRefused):
    """The provider sent no address, and no link exists yet."""


class AccountInactive(SsoRefused):
    """The linked (or matching) account is deactivated."""


class StaleSignIn(InvalidInput):
    """A sign-in not started in this browser, taken already, or expired: start again."""


class Purpose(StrEnum):
    """What a sign-in is for: a portal session, or an API token for the command line client."""

    PORTAL = "portal"
    CLI = "cli"


class RequestStatus(StrEnum):
    STARTED = "started"  # sent to the provider; its answer not yet seen
    PENDING = "pending"  # the provider vouched for a new person who still names their organization
    DONE = "done"  # signed in (a portal session opened, or the CLI's code issued)
    FAILED = "failed"  # the provider's answer was refused; never retried


@dataclass(frozen=True)
class ClaimMap:
    """Which claim of the provider carries which fact (providers differ: eduGAIN entitlements, groups)."""

    email: str = "email"
    email_verified: str = "email_verified"
    name: str = "name"
    groups: str = "groups"


@dataclass(frozen=True)
class OrgRule:
    """``group`` (an exact value of the groups claim, or a prefix ending in ``*``) or ``domain`` (the e-mail
    address's domain or a subdomain of it) places a new person in the organization named ``organization``."""

    organization: str
    group: str | None = None
    domain: str | None = None

    def matches(self, groups: Sequence[str], email: str | None) -> bool:
        if self.group is not None:
            if self.group.endswith("*"):
                return any(g.startswith(self.group[:-1]) for g in groups)
            return self.group in groups
        if self.domain is not None and email:
            domain = email.rsplit("@", 1)[-1].lower()
            wanted = self.domain.lower().lstrip("@")
            return domain == wanted or domain.endswith("." + wanted)
        return False


@dataclass(frozen=True)
class ProviderPolicy:
    """How the factory treats one provider's people: ``trust_email`` for providers that release only
    verified addresses without saying so (no ``email_verified`` claim); the organization rules in order."""

    name: str
    title: str
    claims: ClaimMap = ClaimMap()
    trust_email: bool = False
    rules: tuple[OrgRule, ...] = ()

    def organization_for(self, who: OidcIdentity) -> str | None:
        """The organization the first matching rule names (the e-mail domain counts only when verified)."""
        email = who.email if who.email_verified else None
        return next((r.organization for r in self.rules if r.matches(who.groups, email)), None)


@dataclass(frozen=True)
class OidcIdentity:
    """What a provider vouched for in a verified ID token (and its userinfo): ``subject`` is stable, the
    e-mail address may change."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    groups: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "subject": self.subject,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
            "groups": list(self.groups),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OidcIdentity:
        return cls(
            provider=str(data["provider"]),
            subject=str(data["subject"]),
            email=data.get("email"),
            email_verified=bool(data.get("email_verified")),
            name=str(data.get("name") or ""),
            groups=tuple(str(g) for g in data.get("groups") or ()),
        )


def _groups(value: Any) -> tuple[str, ...]:
    """A groups or entitlement claim: a list of strings, or one string of values separated by spaces."""
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str | int))[:500]
    return ()


def _verified(value: Any) -> bool:
    """``email_verified`` is a JSON boolean; some providers send the string "true"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def identity_from_claims(policy: ProviderPolicy, claims: Mapping[str, Any]) -> OidcIdentity:
    """The person in a provider's claims, read through the provider's claim map."""
    m = policy.claims
    email = claims.get(m.email)
    email = email.strip().lower()[:254] if isinstance(email, str) and email.strip() else None
    verified = email is not None and (policy.trust_email or _verified(claims.get(m.email_verified)))
    name = claims.get(m.name)
    return OidcIdentity(
        provider=policy.name,
        subject=str(claims["sub"])[:255],
        email=email,
        email_verified=verified,
        name=(name.strip()[:200] if isinstance(name, str) else "") or (email or "").split("@")[0],
        groups=_groups(claims.get(m.groups)),
    )


@dataclass(frozen=True)
class SsoLink:
    """A provider's subject, linked to a user once: later sign-ins find the user by it."""

    provider: str
    subject: str
    user_id: int
    email: str | None
    created_at: datetime
    last_sign_in_at: datetime
    id: int | None = None


@dataclass(frozen=True)
class SsoRequest:
    """One sign-in with a provider, single use: only the SHA-256 of its ``state`` is stored (the PKCE
    verifier and the nonce are derived from the state under the site's key, see :func:`derived`)."""

    state_hash: str
    provider: str
    purpose: Purpose
    status: RequestStatus
    next_path: str
    created_at: datetime
    expires_at: datetime
    identity: OidcIdentity | None = None  # a PENDING request's person
    user_id: int | None = None
    cli_port: int | None = None
    cli_challenge: str | None = None  # S256 of the CLI's own verifier: only that CLI redeems the code
    cli_state: str | None = None
    code_hash: str | None = None
    code_expires_at: datetime | None = None
    code_used_at: datetime | None = None
    id: int | None = None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def derived(key: str, state: str, what: str) -> str:
    """A value only the factory can compute from a state (the PKCE verifier: 43 characters of base64url)."""
    mac = hmac.new(key.encode(), f"sso|{what}|{state}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def valid_provider_name(name: str) -> bool:
    return bool(_PROVIDER_NAME.match(name))
