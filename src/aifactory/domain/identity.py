"""Organizations, users and API tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pycountry

from .enums import ApplicationField, OrgKind
from .errors import InvalidInput
from .passwords import Person, check_password
from .stored import Stored


@dataclass(eq=False, kw_only=True)
class Organization:
    name: str
    kind: OrgKind
    country: str
    sectors: list[str] = field(default_factory=list)
    created_at: datetime
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class User(Stored):
    email: str
    name: str
    organization_id: int | None = None
    is_operator: bool = False
    is_reviewer: bool = False
    is_org_admin: bool = False
    active: bool = True
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)
    # a password set in a portal session opened with an API token lasts only as long as that token
    password_token_id: int | None = None
    language: str = "en"  # e-mails and notifications: en | de (the portal's language at sign-up)
    # when the person proved they read this address (a link, a password reset, single sign-on, or an
    # operator's or admin's vouching); None: an unverified sign-up, who cannot submit proposals
    email_verified_at: datetime | None = None
    id: int | None = None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


@dataclass(eq=False, kw_only=True)
class ApiToken:
    """A bearer token; only its SHA-256 is stored, the secret is shown once."""

    user_id: int
    name: str
    token_hash: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    scope: str = "full"  # domain.teams.TokenScope: full | read | jobs | project (0014)
    scope_project_id: int | None = None  # the one project of a ``project`` token
    id: int | None = None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(eq=False, kw_only=True)
class WebSession:
    """A portal sign-in: only the SHA-256 of the cookie's secret is stored. It ends at ``expires_at``
    (absolute), after ``idle`` without a request, or when the user signs out (``ended_at``)."""

    user_id: int
    token_hash: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    api_token_id: int | None = None  # opened with this API token (or a password bound to it): ends with it
    id: int | None = None

    def live(self, now: datetime, idle: timedelta) -> bool:
        return self.ended_at is None and now < self.expires_at and now - self.last_seen_at < idle


def check_password_rules(password: str, email: str = "", name: str = "") -> None:
    """The password policy (``domain.passwords``); errors name the field ``password``."""
    check_password(password, Person(email, name))


def normalize_country(code: str, field_name: str = "country") -> str:
    """Return the ISO 3166-1 alpha-2 code, or raise naming the field."""
    value = (code or "").strip().upper()
    if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
        raise InvalidInput.on(field_name, f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return value


def normalize_sectors(sectors: list[str]) -> list[str]:
    """Sectors are application fields; duplicates are dropped, order kept."""
    valid = {f.value for f in ApplicationField}
    out: list[str] = []
    for s in sectors:
        if s not in valid:
            raise InvalidInput.on("sectors", f"{s!r} is not one of {', '.join(sorted(valid))}")
        if s not in out:
            out.append(s)
    return out


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    value = (email or "").strip().lower()
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidInput.on("email", f"{email!r} is not a valid e-mail address")
    return value
