from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from ...domain.enums import ApplicationField, OrgKind
from ...domain.teams import TokenScope
from .common import MAX_ID, Id, In, Out, Text200

TtlDays = Annotated[int, Field(ge=1, le=366)]


class OrganizationIn(In):
    name: Text200
    kind: OrgKind
    country: Annotated[str, Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2, e.g. DE")]
    sectors: Annotated[list[ApplicationField], Field(max_length=8)] = []


class UserIn(In):
    email: Annotated[str, Field(max_length=254)]
    name: Text200
    password: Annotated[
        str | None,
        Field(default=None, max_length=1024, description="to sign in with later (the password policy applies)"),
    ] = None


class RegisterIn(In):
    organization: OrganizationIn
    user: UserIn


class OrganizationOut(Out):
    id: int
    name: str
    kind: OrgKind
    country: str
    sectors: list[str]
    created_at: datetime


class UserOut(Out):
    id: int
    email: str
    name: str
    organization_id: int | None
    is_operator: bool
    is_reviewer: bool
    is_org_admin: bool
    active: bool
    created_at: datetime
    email_verified: bool = False  # False: the link e-mailed at sign-up was not opened yet (no proposal submits)


class TokenOut(Out):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    scope: str = "full"
    scope_project_id: int | None = None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="the secret; shown this once, only its hash is stored")


class RegisteredOut(Out):
    organization: OrganizationOut
    user: UserOut
    token: IssuedTokenOut


class UserCreate(In):
    email: Annotated[str, Field(max_length=254)]
    name: Text200
    organization_id: Id | None = None
    is_reviewer: bool = False
    is_operator: bool = False
    is_org_admin: bool = False


class UserCreated(Out):
    user: UserOut
    token: IssuedTokenOut


class RolesIn(In):
    is_reviewer: bool | None = None
    is_operator: bool | None = None
    active: bool | None = None
    email_verified: bool | None = None  # an operator vouches for the address (or takes that back)


class TokenCreate(In):
    name: Annotated[str, Field(min_length=1, max_length=100)] = "cli"
    ttl_days: TtlDays = 90


class ScopedTokenCreate(TokenCreate):
    scope: TokenScope = Field(
        default=TokenScope.FULL, description="full; read (GET only); jobs (jobs, templates, storage); project"
    )
    project_id: Annotated[int | None, Field(ge=1, le=MAX_ID, description="the project of a 'project' token")] = None


class PasswordTokenIn(TokenCreate):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


def issued(t) -> IssuedTokenOut:  # type: ignore[no-untyped-def]
    return IssuedTokenOut(**TokenOut.model_validate(t.token).model_dump(), token=t.secret)
