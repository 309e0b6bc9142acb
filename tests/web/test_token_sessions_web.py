"""A portal session opened with an API token lives no longer than that token: it ends when the token is revoked
or expires, and a password set from it works only while the token does (a stolen token never becomes a lasting
password)."""

from __future__ import annotations

from typing import Any

from aifactory.demo import DEMO_PASSWORD
from tests.support.api import assert_problem
from tests.support.demo import PEOPLE
from tests.support.portal import Portal, WebClient

NEW_PASSWORD = "a-brand-new-secret-7"


def token_browser(portal: Portal, token: str) -> WebClient:
    web = portal.browser()
    web.get("/login")
    assert web.post("/login", {"email": "", "password": token}).status_code == 303
    web._csrf = None  # the session's CSRF token differs from the anonymous one
    return web


def new_token(portal: Portal, who: str, ttl_days: int = 90) -> dict[str, Any]:
    issued: dict[str, Any] = portal.api.ok("POST", "/tokens", who, status=201, json={"name": "t", "ttl_days": ttl_days})
    return issued


def signed_in(web: WebClient) -> bool:
    return web.get("/projects", follow_redirects=False).status_code == 200


def test_revoking_the_token_ends_the_session_opened_with_it(portal: Portal) -> None:
    issued = new_token(portal, "daan")
    web = token_browser(portal, issued["token"])
    assert signed_in(web)  # and cached now
    password_session = portal.browser("daan")
    portal.api.ok("DELETE", f"/tokens/{issued['id']}", "daan")
    r = web.get("/projects", follow_redirects=False)
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    assert signed_in(password_session)  # a password session does not depend on the token


def test_a_token_session_ends_when_the_token_expires(portal: Portal) -> None:
    web = token_browser(portal, new_token(portal, "daan", ttl_days=1)["token"])
    assert signed_in(web)
    portal.api.clock.advance(hours=1)
    assert signed_in(web)
    portal.api.clock.advance(hours=23, minutes=1)  # the token is over; the session's own 12 h are not
    assert not signed_in(web)


def test_a_first_password_set_from_a_token_session_dies_with_the_token(portal: Portal) -> None:
    created = portal.api.ok(
        "POST",
        "/users",
        "anna",
        status=201,
        json={"email": "tokenonly@backhaus-kiel.example", "name": "Token Only", "organization_id": 1},
    )
    token = created["token"]
    web = token_browser(portal, token["token"])
    r = web.post("/account/password", {"current": "", "new": NEW_PASSWORD, "new2": NEW_PASSWORD})
    assert r.status_code == 303
    with_password = portal.browser()
    with_password.sign_in("tokenonly@backhaus-kiel.example", NEW_PASSWORD)  # works while the token does
    assert signed_in(with_password)
    cli = portal.api.client.post(
        "/api/v1/auth/token", json={"email": "tokenonly@backhaus-kiel.example", "password": NEW_PASSWORD}
    )
    assert_problem(cli, 403)  # no longer-lived token minted from it

    portal.api.ok("DELETE", f"/tokens/{token['id']}", "operator")
    assert not signed_in(with_password)  # the session opened with the bound password ends too
    again = portal.browser()
    again.get("/login")
    refused = again.post("/login", {"email": "tokenonly@backhaus-kiel.example", "password": NEW_PASSWORD})
    assert refused.status_code == 401


def test_a_known_password_changed_from_a_token_session_stays_unbound(portal: Portal) -> None:
    issued = new_token(portal, "eva")
    web = token_browser(portal, issued["token"])
    r = web.post("/account/password", {"current": DEMO_PASSWORD, "new": NEW_PASSWORD, "new2": NEW_PASSWORD})
    assert r.status_code == 303
    portal.api.ok("DELETE", f"/tokens/{issued['id']}", "eva")
    later = portal.browser()
    later.sign_in(PEOPLE["eva"], NEW_PASSWORD)  # whoever typed the current password owns the account
    assert signed_in(later)
