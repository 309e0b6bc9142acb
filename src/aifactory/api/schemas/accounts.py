"""E-mail verification and password reset (``services.accounts``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import In, Out

LinkToken = Annotated[str, Field(min_length=1, max_length=200, description="the token of the e-mailed link")]


class EmailIn(In):
    email: Annotated[str, Field(min_length=3, max_length=320)]


class LinkIn(In):
    token: LinkToken


class PasswordResetIn(In):
    token: LinkToken
    password: Annotated[str, Field(min_length=1, max_length=1024, description="the new password (the policy applies)")]


class AcceptedOut(Out):
    detail: str
