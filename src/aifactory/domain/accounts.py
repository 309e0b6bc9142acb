"""Accounts that hold: the single-use links e-mailed to verify an address or to reset a password, and the rule
that only a verified address submits proposals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import Forbidden, InvalidInput
from .identity import User


class Purpose(StrEnum):
    VERIFY = "verify"
    RESET = "reset"


LIFETIME = {Purpose.VERIFY: timedelta(days=3), Purpose.RESET: timedelta(hours=1)}
LINK_PATH = {Purpose.VERIFY: "/verify-email", Purpose.RESET: "/reset-password"}
BAD_LINK = "this link is invalid, already used or expired: ask for a new one"
UNVERIFIED = (
    "verify your e-mail address before you submit a proposal: open the link in the e-mail we sent to {email}, "
    "or ask for a new one (the banner in the portal, or POST /api/v1/auth/verify-email/resend)"
)


@dataclass(frozen=True, kw_only=True)
class AccountToken:
    """A link's token: only its SHA-256 is stored; it works once and until ``expires_at``."""

    user_id: int
    purpose: Purpose
    token_hash: str
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    id: int | None = None

    def usable(self, now: datetime, purpose: Purpose) -> bool:
        return self.purpose == purpose and self.used_at is None and now < self.expires_at


class BadLink(InvalidInput):
    """A link's token that does not work (unknown, used, expired, or for something else)."""


class EmailUnverified(Forbidden):
    """The person has not verified their e-mail address yet."""

    title = "E-mail address not verified"


def check_verified(user: User) -> None:
    """Submitting a proposal (and whatever else needs a reachable person) asks this."""
    if user.email_verified_at is None:
        raise EmailUnverified(UNVERIFIED.format(email=user.email))


def check_link(token: AccountToken | None, now: datetime, purpose: Purpose) -> AccountToken:
    """The token of a link that still works, or one error for every other case (naming the field)."""
    if token is None or not token.usable(now, purpose):
        raise BadLink.on("token", BAD_LINK)
    return token
