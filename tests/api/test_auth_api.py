"""Registration, bearer tokens and the problem+json answers to unauthenticated requests."""

from __future__ import annotations

import pytest

from tests.support.api import API, assert_problem

REGISTRATION = {
    "organization": {"name": "Bäckerei Schmitz", "kind": "sme", "country": "de", "sectors": ["food"]},
    "user": {"email": "jo@schmitz.example", "name": "Jo Schmitz"},
}


def test_health_needs_no_token(api):
    assert api.ok("GET", "/health") == {"status": "ok"}


def test_register_then_use_the_token(api):
    body = api.ok("POST", "/register", json=REGISTRATION, status=201)
    assert body["organization"]["country"] == "DE"
    assert body["user"]["is_org_admin"] is True
    token = body["token"]["token"]
    assert token.startswith("aif_") and body["token"]["prefix"] == token[:10]
    me = api.ok("GET", "/me", headers={"Authorization": f"Bearer {token}"})
    assert me["email"] == "jo@schmitz.example"
    listed = api.ok("GET", "/tokens", headers={"Authorization": f"Bearer {token}"})
    assert [t["name"] for t in listed] == ["registration"]
    assert "token" not in listed[0]  # the secret is shown once only


def test_registering_an_existing_organization_is_a_conflict(api):
    before = api.counts()
    dup = {**REGISTRATION, "organization": {**REGISTRATION["organization"], "name": "backhaus kiel gmbh"}}
    assert_problem(api.post("/register", json=dup), 409, detail="already exists")
    assert api.counts() == before


@pytest.mark.parametrize(
    ("country", "field"),
    [
        ("ZZ", "organization.country"),
        ("DEU", "organization.country"),
        ("", "organization.country"),
        (49, "organization.country"),
    ],
)
def test_invalid_country_codes_are_422_naming_the_field(api, country, field):
    before = api.counts()
    body = {**REGISTRATION, "organization": {**REGISTRATION["organization"], "country": country}}
    assert_problem(api.post("/register", json=body), 422, field)
    assert api.counts() == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxhZGRpbjpvcGVu"},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer aif_" + "x" * 43},
        {"Authorization": "Bearer aif_" + "x" * 500},
    ],
)
def test_missing_or_garbage_tokens_are_401(api, headers):
    r = api.get("/proposals", headers=headers)
    assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"


def test_an_expired_token_is_401(api):
    assert api.get("/me", "anna").status_code == 200
    api.clock.advance(days=91)  # demo tokens live 90 days
    assert_problem(api.get("/me", "anna"), 401, detail="expired")


def test_tokens_are_created_listed_and_revoked(api):
    issued = api.ok("POST", "/tokens", "anna", json={"name": "laptop", "ttl_days": 7}, status=201)
    new = {"Authorization": f"Bearer {issued['token']}"}
    assert api.ok("GET", "/me", headers=new)["email"] == "anna@backhaus-kiel.example"
    names = [t["name"] for t in api.ok("GET", "/tokens", "anna")]
    assert names == ["registration", "laptop"]
    revoked = api.ok("DELETE", f"/tokens/{issued['id']}", "anna")
    assert revoked["revoked_at"] is not None
    assert_problem(api.get("/me", headers=new), 401)
    assert api.get("/me", "anna").status_code == 200  # the other token still works


def test_tokens_of_others_cannot_be_revoked(api):
    other = api.ok("GET", "/tokens", "claire")[0]["id"]
    assert_problem(api.delete(f"/tokens/{other}", "anna"), 404)
    assert api.get("/me", "claire").status_code == 200


@pytest.mark.parametrize("body", [{"ttl_days": 0}, {"ttl_days": 400}, {"name": ""}, {"ttl_days": "forever"}])
def test_token_requests_are_validated(api, body):
    field = next(iter(body))
    assert_problem(api.post("/tokens", "anna", json=body), 422, field)


def test_deactivated_users_lose_access(api):
    daan = api.user_id("daan")
    assert api.ok("PATCH", f"/users/{daan}/roles", "operator", json={"active": False})["active"] is False
    assert_problem(api.get("/me", "daan"), 401, detail="deactivated")


def test_openapi_document_is_served(api):
    doc = api.client.get(API + "/openapi.json").json()
    assert doc["info"]["title"] == "aifactory API"
    assert "/api/v1/proposals/{proposal_id}/decision" in doc["paths"]


def test_a_token_for_email_and_password(api):
    from aifactory.demo import DEMO_PASSWORD, OPERATOR_EMAIL

    body = api.ok(
        "POST", "/auth/token", json={"email": OPERATOR_EMAIL, "password": DEMO_PASSWORD, "name": "laptop"}, status=201
    )
    token = body["token"]
    assert token.startswith("aif_") and body["name"] == "laptop" and body["expires_at"]
    assert api.ok("GET", "/me", headers={"Authorization": f"Bearer {token}"})["email"] == OPERATOR_EMAIL


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "operator@jaif.example", "password": "not-the-password"},
        {"email": "nobody@nowhere.example", "password": "bake-less-waste"},
        {"email": "not an address", "password": "bake-less-waste"},
    ],
)
def test_a_wrong_password_or_address_gets_one_answer_and_no_token(api, credentials):
    before = api.counts()
    problem = assert_problem(api.post("/auth/token", json=credentials), 401)
    assert problem["detail"] == "wrong e-mail address or password"
    assert api.counts() == before
