"""Single sign-on for the command line client: the providers a site offers, and a one-time code for a token."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import In, Out
from .identity import TtlDays


class ProviderOut(Out):
    name: str = Field(description="what `aifactory login --sso --provider` takes")
    title: str


class SsoTokenIn(In):
    code: Annotated[str, Field(min_length=16, max_length=128, description="the one-time code the browser brought")]
    verifier: Annotated[
        str, Field(min_length=43, max_length=128, description="the PKCE verifier whose S256 challenge started it")
    ]
    ttl_days: TtlDays = 90
