from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .common import In, Out


class InviteIn(In):
    email: Annotated[str, Field(min_length=3, max_length=254)]
    role: Annotated[str, Field(max_length=16, description="project: member | pi; organization: member | admin")] = (
        "member"
    )


class InvitationOut(Out):
    """The same answer whether the address has an account or not."""

    id: int
    kind: str
    email: str
    organization_id: int
    project_id: int | None
    role: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class AcceptIn(In):
    token: Annotated[str, Field(min_length=8, max_length=200, description="the token in the e-mail's link")]


class OrgMemberOut(Out):
    id: int
    email: str
    name: str
    is_org_admin: bool


class OrgRoleIn(In):
    admin: bool


class ConsentOut(Out):
    id: int
    proposal_id: int
    organization_id: int
    state: str
    requested_at: datetime
    answered_at: datetime | None


class ConsentAnswerIn(In):
    confirm: bool
