"""Teams: invitations by e-mail (a single-use link that expires), a partner organization's consent to a
proposal, and what an API token's scope lets it do. Pure rules, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .enums import ProjectRole
from .errors import Conflict, Forbidden, InvalidInput
from .stored import Stored

INVITATION_DAYS = 7


class InvitationKind(StrEnum):
    PROJECT = "project"  # join a project (with a role)
    ORGANIZATION = "organization"  # join an organization (optionally as its admin)


@dataclass(eq=False, kw_only=True)
class Invitation(Stored):
    """Only the SHA-256 of the link's token is stored. ``organization_id``: where a person without an account
    joins (a project invitation: the inviter's organization among the project's)."""

    kind: InvitationKind
    email: str
    organization_id: int
    project_id: int | None = None
    role: str = ProjectRole.MEMBER.value  # project: pi | member; organization: admin | member
    token_hash: str
    invited_by: int
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_by: int | None = None
    revoked_at: datetime | None = None
    id: int | None = None

    def state(self, now: datetime) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "pending"


ORG_ROLES = ("member", "admin")


def check_role(kind: InvitationKind, role: str) -> str:
    allowed = [r.value for r in ProjectRole] if kind is InvitationKind.PROJECT else list(ORG_ROLES)
    if role not in allowed:
        raise InvalidInput.on("role", f"{role!r} is not one of {', '.join(allowed)}")
    return role


class ConsentState(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class PartnersNotConfirmed(Conflict):
    """A proposal names partner organizations that have not confirmed (yet)."""


@dataclass(eq=False, kw_only=True)
class PartnerConsent:
    """A partner organization's answer to a proposal that names it; the proposal is submitted only once every
    partner confirmed."""

    proposal_id: int
    organization_id: int
    state: ConsentState = ConsentState.REQUESTED
    requested_at: datetime
    answered_at: datetime | None = None
    answered_by: int | None = None
    id: int | None = None


class TokenScope(StrEnum):
    FULL = "full"  # everything the user may do
    READ = "read"  # GET (and HEAD) only
    JOBS = "jobs"  # jobs, templates (the catalog) and storage of the user's projects
    PROJECT = "project"  # like jobs, for one project only


#: what a ``jobs`` or ``project`` token may reach (route templates, without the API prefix)
_JOB_ROUTES = re.compile(r"^/(jobs|templates)(/|$)|^/projects/\{project_id\}/storage(/|$)")
#: reads a jobs/project token needs to find its way (who am I, which projects)
_JOB_READS = re.compile(
    r"^/(me|health|projects|projects/\{project_id\}|allocations(/\{allocation_id\})?)$|^/catalog(/\{kind\}/\{slug\})?$"
)


@dataclass(frozen=True)
class ScopedRequest:
    """What a scope rule looks at: the method, the matched route's template, and the project the request names
    (its path, its ``project_id`` query parameter, or a submitted job's body), if any."""

    method: str
    route: str
    project_id: int | None = None
    job_id: int | None = None


def scope_allows(scope: TokenScope, req: ScopedRequest) -> str | None:
    """None when the scope allows the request (before the project check), else why not."""
    reading = req.method in ("GET", "HEAD")
    if scope is TokenScope.FULL:
        return None
    if scope is TokenScope.READ:
        return None if reading else "this token is read-only"
    if _JOB_ROUTES.match(req.route) or (reading and _JOB_READS.match(req.route)):
        return None
    return f"this token's scope ({scope.value}) covers jobs, templates and storage only"


def check_scope_project(scope: TokenScope, scope_project_id: int | None, project_id: int | None, route: str) -> None:
    """A project token reaches its project only: a request must name it (lists: ``?project_id=``)."""
    if scope is not TokenScope.PROJECT:
        return
    if route.startswith("/catalog") or (project_id is None and route in ("/health", "/me", "/jobs/schema")):
        return
    if project_id != scope_project_id:
        raise Forbidden(f"this token is for project {scope_project_id} only (name it: project_id={scope_project_id})")
