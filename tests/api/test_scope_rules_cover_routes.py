"""Every API route that takes a token has a scope rule (services.scopes asks domain.teams.scope_allows for each
request): ``full`` tokens may do everything and ``read`` tokens GET/HEAD only, by the method, so every route is
covered for them; ``jobs`` and ``project`` tokens reach only what a rule names (the job, template and storage
routes, and the reads they need to find their way). Everything else falls to the default: refused. This test
makes that default a decision: a route that no rule names must be listed in DENIED_TO_JOB_TOKENS, with why, and a
route without a token in PUBLIC; a new route that is in neither fails here until someone decides."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from aifactory.api import deps
from aifactory.api.app import API_PREFIX, create_app
from aifactory.config import Settings
from aifactory.domain.teams import ScopedRequest, TokenScope, scope_allows

Route = tuple[str, str]  # (method, path without the API prefix), as services.scopes sees a request

# routes no token is asked for: scopes never apply (the token-less part of the API)
PUBLIC: set[Route] = {
    ("GET", "/health"),
    ("GET", "/jobs/schema"),
    ("POST", "/register"),
    ("POST", "/auth/token"),
    ("POST", "/auth/password-reset"),
    ("POST", "/auth/password-reset/confirm"),
    ("POST", "/auth/verify-email"),
    ("GET", "/auth/sso/providers"),
    ("POST", "/auth/sso/token"),
}

# routes refused to jobs and project tokens on purpose (no rule names them; the default refuses): what a person
# does with a full token or in the portal, never an automation's job work
DENIED_TO_JOB_TOKENS: set[Route] = {
    # the GPU-hour accounts of an allocation: reading its ledger and burn-down, and the operator's adjustments
    ("GET", "/allocations/{allocation_id}/burn-down"),
    ("GET", "/allocations/{allocation_id}/ledger"),
    ("POST", "/allocations/{allocation_id}/adjust"),
    ("POST", "/allocations/{allocation_id}/resume"),
    ("POST", "/allocations/{allocation_id}/suspend"),
    # the account itself: tokens (a scoped token mints no others), the e-mail check, notifications
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{token_id}"),
    ("POST", "/auth/verify-email/resend"),
    ("GET", "/notifications"),
    ("GET", "/notifications/outbox"),
    ("GET", "/notifications/preferences"),
    ("PUT", "/notifications/preferences"),
    ("POST", "/notifications/read-all"),
    ("GET", "/notifications/unread"),
    ("POST", "/notifications/{notification_id}/read"),
    # applying for GPU-hours: calls, proposals, partners' consents, reviews and decisions
    ("GET", "/calls"),
    ("POST", "/calls"),
    ("GET", "/calls/{call_id}"),
    ("PATCH", "/calls/{call_id}"),
    ("GET", "/proposals"),
    ("POST", "/proposals"),
    ("GET", "/proposals/{proposal_id}"),
    ("PATCH", "/proposals/{proposal_id}"),
    ("GET", "/proposals/{proposal_id}/attachments"),
    ("GET", "/proposals/{proposal_id}/attachments/{key}"),
    ("PUT", "/proposals/{proposal_id}/attachments/{key}"),
    ("DELETE", "/proposals/{proposal_id}/attachments/{key}"),
    ("GET", "/proposals/{proposal_id}/checks"),
    ("POST", "/proposals/{proposal_id}/declaration"),
    ("POST", "/proposals/{proposal_id}/submit"),
    ("POST", "/proposals/{proposal_id}/withdraw"),
    ("GET", "/proposals/{proposal_id}/consents"),
    ("GET", "/consents"),
    ("POST", "/consents/{consent_id}"),
    ("GET", "/proposals/{proposal_id}/reviewer-candidates"),
    ("POST", "/proposals/{proposal_id}/reviewers"),
    ("GET", "/proposals/{proposal_id}/reviews"),
    ("POST", "/proposals/{proposal_id}/reviews"),
    ("GET", "/reviews/queue"),
    ("POST", "/proposals/{proposal_id}/decision"),
    # teams: organizations, their members and invitations, a project's members
    ("GET", "/organizations"),
    ("GET", "/organizations/{org_id}"),
    ("GET", "/organizations/{org_id}/members"),
    ("PATCH", "/organizations/{org_id}/members/{user_id}"),
    ("DELETE", "/organizations/{org_id}/members/{user_id}"),
    ("GET", "/organizations/{org_id}/invitations"),
    ("POST", "/organizations/{org_id}/invitations"),
    ("GET", "/projects/{project_id}/invitations"),
    ("POST", "/projects/{project_id}/invitations"),
    ("POST", "/projects/{project_id}/members"),
    ("DELETE", "/projects/{project_id}/members/{user_id}"),
    ("POST", "/invitations/accept"),
    ("DELETE", "/invitations/{invitation_id}"),
    # publishing to the catalog and the operator's approvals (jobs tokens publish a job's output with
    # POST /jobs/{job_id}/publish and register stored files under /projects/{project_id}/storage)
    ("POST", "/catalog"),
    ("GET", "/catalog/pending"),
    ("POST", "/catalog/items/{item_id}/decision"),
    # the operator's factory: sites and resources, users and roles, the audit log, the KPI reports
    ("GET", "/sites"),
    ("POST", "/sites"),
    ("POST", "/sites/{site_id}/resources"),
    ("GET", "/resources/{resource_id}"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("PATCH", "/users/{user_id}/roles"),
    ("GET", "/audit"),
    ("GET", "/reports/gpu-hours"),
    ("GET", "/reports/smes"),
    ("GET", "/reports/time-to-decision"),
    ("GET", "/reports/time-to-first-job"),
    ("GET", "/reports/utilization"),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app as tests/support/app_fixtures.py builds it; only its routes are read (no request, no database)."""
    folder = tmp_path_factory.mktemp("scopes")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'unused.db'}", env="test", data_dir=folder / "data", reconcile_seconds=0
    )
    return create_app(settings)


def _api_routes(app: FastAPI) -> Iterator[tuple[APIRoute, str, set[str]]]:
    """Each API route with its full path and methods (FastAPI >= 0.165 keeps included routers as such and
    lists their routes through ``iter_route_contexts``; older versions copy them into ``app.routes``)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    found: list[Any] = list(contexts(app.routes)) if contexts is not None else list(app.routes)
    for item in found:
        route = getattr(item, "original_route", item)
        path = item.path or ""
        if isinstance(route, APIRoute) and path.startswith(API_PREFIX + "/"):
            yield route, path, set(item.methods or ())


def _takes_a_token(dependant: Any) -> bool:
    """The route authenticates a bearer token (deps.CurrentActor), the one place that asks services.scopes."""
    return any(d.call is deps._actor or _takes_a_token(d) for d in dependant.dependencies)


def routes(app: FastAPI) -> tuple[set[Route], set[Route]]:
    """(routes that take a token, routes that take none)."""
    token: set[Route] = set()
    public: set[Route] = set()
    for route, path, methods in _api_routes(app):
        for method in methods:
            (token if _takes_a_token(route.dependant) else public).add((method, path.removeprefix(API_PREFIX)))
    return token, public


def named_by_a_rule(method: str, path: str) -> bool:
    """A jobs (or project) token is let through by a rule, not left to the default."""
    return scope_allows(TokenScope.JOBS, ScopedRequest(method, path)) is None


def test_the_walk_finds_the_api(app: FastAPI) -> None:
    token, public = routes(app)
    assert {("POST", "/jobs"), ("GET", "/proposals"), ("PATCH", "/users/{user_id}/roles")} <= token
    assert ("POST", "/auth/token") in public and len(token) > 80


def test_full_and_read_tokens_are_decided_by_the_method_for_every_route(app: FastAPI) -> None:
    token, _ = routes(app)
    for method, path in sorted(token):
        request = ScopedRequest(method, path)
        assert scope_allows(TokenScope.FULL, request) is None, (method, path)
        expected = None if method in ("GET", "HEAD") else "this token is read-only"
        assert scope_allows(TokenScope.READ, request) == expected, (method, path)


def test_every_route_a_rule_does_not_name_is_refused_on_purpose(app: FastAPI) -> None:
    token, _ = routes(app)
    only_the_default = {r for r in token if not named_by_a_rule(*r)}
    undecided = sorted(only_the_default - DENIED_TO_JOB_TOKENS)
    assert undecided == [], "give these a rule in domain.teams (services.scopes) or list them in DENIED_TO_JOB_TOKENS"
    for method, path in sorted(DENIED_TO_JOB_TOKENS):
        for scope in (TokenScope.JOBS, TokenScope.PROJECT):
            why = scope_allows(scope, ScopedRequest(method, path))
            assert why == f"this token's scope ({scope.value}) covers jobs, templates and storage only", (method, path)


def test_the_lists_name_only_real_routes_of_their_kind(app: FastAPI) -> None:
    token, public = routes(app)
    assert sorted(DENIED_TO_JOB_TOKENS - token) == [], "gone, or no longer taking a token: take them off the list"
    assert sorted(DENIED_TO_JOB_TOKENS & {r for r in token if named_by_a_rule(*r)}) == [], "a rule names these now"
    assert public == PUBLIC, "a route without a token (or one that now takes a token): update PUBLIC"


@pytest.mark.parametrize(
    "route",
    [
        ("POST", "/jobs"),
        ("GET", "/jobs/{job_id}/logs"),
        ("POST", "/templates/{name}/run"),
        ("PUT", "/projects/{project_id}/storage/uploads/{upload_id}"),
        ("GET", "/me"),
        ("GET", "/projects/{project_id}"),
        ("GET", "/allocations/{allocation_id}"),
        ("GET", "/catalog"),
    ],
)
def test_the_job_work_is_named_by_a_rule(app: FastAPI, route: Route) -> None:
    token, _ = routes(app)
    assert route in token and named_by_a_rule(*route)
