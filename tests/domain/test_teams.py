"""The pure rules of teams: invitation states, roles, and what a token's scope allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aifactory.domain.errors import Forbidden, InvalidInput
from aifactory.domain.teams import (
    Invitation,
    InvitationKind,
    ScopedRequest,
    TokenScope,
    check_role,
    check_scope_project,
    scope_allows,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def invitation(**kw: object) -> Invitation:
    values: dict = {
        "kind": InvitationKind.PROJECT,
        "email": "ben@example.org",
        "organization_id": 1,
        "project_id": 1,
        "token_hash": "x" * 64,
        "invited_by": 1,
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=7),
        **kw,
    }
    return Invitation(**values)


def test_an_invitation_is_pending_until_used_revoked_or_expired() -> None:
    assert invitation().state(NOW) == "pending"
    assert invitation().state(NOW + timedelta(days=7)) == "expired"
    assert invitation(accepted_at=NOW).state(NOW) == "accepted"
    assert invitation(revoked_at=NOW).state(NOW) == "revoked"


def test_roles_depend_on_the_kind() -> None:
    assert check_role(InvitationKind.PROJECT, "pi") == "pi"
    assert check_role(InvitationKind.ORGANIZATION, "admin") == "admin"
    for kind, role in ((InvitationKind.PROJECT, "admin"), (InvitationKind.ORGANIZATION, "pi")):
        with pytest.raises(InvalidInput) as exc:
            check_role(kind, role)
        assert exc.value.errors[0].field == "role"


@pytest.mark.parametrize(
    ("scope", "method", "route", "allowed"),
    [
        (TokenScope.FULL, "POST", "/calls", True),
        (TokenScope.READ, "GET", "/proposals", True),
        (TokenScope.READ, "HEAD", "/projects/{project_id}/storage/uploads/{upload_id}", True),
        (TokenScope.READ, "POST", "/jobs", False),
        (TokenScope.READ, "DELETE", "/tokens/{token_id}", False),
        (TokenScope.JOBS, "POST", "/jobs", True),
        (TokenScope.JOBS, "POST", "/jobs/{job_id}/cancel", True),
        (TokenScope.JOBS, "POST", "/templates/{name}/run", True),
        (TokenScope.JOBS, "PUT", "/projects/{project_id}/storage/uploads/{upload_id}", True),
        (TokenScope.JOBS, "GET", "/catalog", True),
        (TokenScope.JOBS, "GET", "/me", True),
        (TokenScope.JOBS, "POST", "/catalog", False),
        (TokenScope.JOBS, "GET", "/proposals", False),
        (TokenScope.JOBS, "POST", "/tokens", False),
        (TokenScope.JOBS, "POST", "/projects/{project_id}/invitations", False),
        (TokenScope.PROJECT, "GET", "/notifications", False),
    ],
)
def test_what_a_scope_allows(scope: TokenScope, method: str, route: str, allowed: bool) -> None:
    assert (scope_allows(scope, ScopedRequest(method, route)) is None) is allowed


def test_a_project_token_names_its_project() -> None:
    check_scope_project(TokenScope.PROJECT, 3, 3, "/jobs")
    check_scope_project(TokenScope.PROJECT, 3, None, "/me")
    check_scope_project(TokenScope.JOBS, None, None, "/jobs")
    for project_id, route in ((None, "/jobs"), (4, "/projects/{project_id}"), (None, "/projects")):
        with pytest.raises(Forbidden, match="project 3 only"):
            check_scope_project(TokenScope.PROJECT, 3, project_id, route)
