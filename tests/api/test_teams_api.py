"""Invitations through the API: a PI invites by e-mail (the same answer for known and unknown addresses), the
link's token is single-use and expires, the invitee accepts and joins; revoking; an organization's admin
invites and manages members. On SQLite and PostgreSQL (the ``api`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api import Api, assert_problem
from tests.support.demo import PEOPLE
from tests.support.mail import MailSink, smtp_sink
from tests.support.teams import mailed_token


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    with smtp_sink() as sink:
        yield sink


def new_user(api: Api, email: str, org: str = "Backhaus Kiel GmbH") -> dict[str, str]:
    """A user of the demo's organization with a token (as the operator adds one)."""
    body = {"email": email, "name": email.split("@")[0], "organization_id": api.info.org_ids[org]}
    made = api.ok("POST", "/users", "operator", status=201, json=body)
    return {"Authorization": f"Bearer {made['token']['token']}"}


def test_the_answer_is_the_same_for_known_and_unknown_addresses(api: Api) -> None:
    project = api.project_of("bakery")
    known = api.ok("POST", f"/projects/{project}/invitations", "anna", status=202, json={"email": PEOPLE["eva"]})
    unknown = api.ok(
        "POST", f"/projects/{project}/invitations", "anna", status=202, json={"email": "x@nowhere.example"}
    )
    assert set(known) == set(unknown)
    assert (known["kind"], known["role"], known["accepted_at"]) == (unknown["kind"], unknown["role"], None)
    assert "token" not in known and "inv_" not in str(known)
    # adding by e-mail invites too; no "no such user" anywhere
    via_members = api.ok(
        "POST", f"/projects/{project}/members", "anna", status=202, json={"email": "y@nowhere.example"}
    )
    assert via_members["email"] == "y@nowhere.example"
    r = api.post(f"/projects/{project}/members", "anna", json={"user_id": 999_999})
    assert_problem(r, 403, detail="organizations")
    assert "no such user" not in r.text
    pending = api.ok("GET", f"/projects/{project}/invitations", "anna")
    assert [i["email"] for i in pending] == [PEOPLE["eva"], "x@nowhere.example", "y@nowhere.example"]


def test_an_invitee_accepts_once_and_joins(api: Api, smtp: MailSink) -> None:
    project = api.project_of("bakery")
    api.ok("POST", f"/projects/{project}/invitations", "anna", status=202, json={"email": "ben@backhaus-kiel.example"})
    token = mailed_token(api, smtp, "ben@backhaus-kiel.example")
    ben = new_user(api, "ben@backhaus-kiel.example")
    assert_problem(api.get(f"/projects/{project}", headers=ben), 404)
    accepted = api.ok("POST", "/invitations/accept", json={"token": token}, headers=ben)
    assert accepted["accepted_at"] is not None
    assert api.ok("GET", f"/projects/{project}", headers=ben)["id"] == project
    members = {m["user_id"]: m["role"] for m in api.ok("GET", f"/projects/{project}", "anna")["members"]}
    assert members[api.user_id("anna")] == "pi" and "member" in members.values()
    assert_problem(api.post("/invitations/accept", json={"token": token}, headers=ben), 404, detail="already used")
    assert api.ok("GET", f"/projects/{project}/invitations", "anna") == []


def test_only_the_invited_address_accepts(api: Api, smtp: MailSink) -> None:
    project = api.project_of("bakery")
    api.ok("POST", f"/projects/{project}/invitations", "anna", status=202, json={"email": "cleo@backhaus-kiel.example"})
    token = mailed_token(api, smtp, "cleo@backhaus-kiel.example")
    other = new_user(api, "otto@backhaus-kiel.example")
    assert_problem(api.post("/invitations/accept", json={"token": token}, headers=other), 403, detail="another")
    assert_problem(api.post("/invitations/accept", "anna", json={"token": "inv_forged-token"}), 404)


def test_invitations_expire_and_can_be_revoked(api: Api, smtp: MailSink) -> None:
    project = api.project_of("bakery")
    first = api.ok(
        "POST", f"/projects/{project}/invitations", "anna", status=202, json={"email": "ben@backhaus-kiel.example"}
    )
    token = mailed_token(api, smtp, "ben@backhaus-kiel.example")
    ben = new_user(api, "ben@backhaus-kiel.example")
    assert_problem(api.delete(f"/invitations/{first['id']}", "lars"), 403, detail="PI")  # a member, not the PI
    assert_problem(api.delete(f"/invitations/{first['id']}", "claire"), 404)  # another tenant: not shown
    assert api.ok("DELETE", f"/invitations/{first['id']}", "anna")["revoked_at"] is not None
    assert_problem(api.delete(f"/invitations/{first['id']}", "anna"), 409)
    assert_problem(api.post("/invitations/accept", json={"token": token}, headers=ben), 404)
    api.ok("POST", f"/projects/{project}/invitations", "anna", status=202, json={"email": "ben@backhaus-kiel.example"})
    late = mailed_token(api, smtp, "ben@backhaus-kiel.example")
    api.clock.advance(days=8)
    assert_problem(api.post("/invitations/accept", json={"token": late}, headers=ben), 404, detail="expired")


def test_only_the_pi_invites_and_bad_input_names_the_field(api: Api) -> None:
    project = api.project_of("bakery")
    assert_problem(
        api.post(f"/projects/{project}/invitations", "lars", json={"email": "a@b.example"}), 403, detail="PI"
    )
    assert_problem(api.post(f"/projects/{project}/invitations", "claire", json={"email": "a@b.example"}), 404)
    bad = api.post(f"/projects/{project}/invitations", "anna", json={"email": "not-an-address"})
    assert_problem(bad, 422, "email")
    assert_problem(
        api.post(f"/projects/{project}/invitations", "anna", json={"email": "a@b.example", "role": "boss"}), 422, "role"
    )


def test_an_organization_admin_invites_and_manages_members(api: Api, smtp: MailSink) -> None:
    org = api.info.org_ids["Backhaus Kiel GmbH"]
    api.ok(
        "POST",
        f"/organizations/{org}/invitations",
        "anna",
        status=202,
        json={"email": "nina@backhaus-kiel.example", "role": "admin"},
    )
    assert_problem(api.post(f"/organizations/{org}/invitations", "claire", json={"email": "z@z.example"}), 404)
    token = mailed_token(api, smtp, "nina@backhaus-kiel.example")
    nina = {
        "Authorization": "Bearer "
        + api.ok(
            "POST",
            "/users",
            "operator",
            status=201,
            json={"email": "nina@backhaus-kiel.example", "name": "Nina", "organization_id": None},
        )["token"]["token"]
    }
    api.ok("POST", "/invitations/accept", json={"token": token}, headers=nina)
    members = {m["email"]: m["is_org_admin"] for m in api.ok("GET", f"/organizations/{org}/members", "anna")}
    assert members == {PEOPLE["anna"]: True, "nina@backhaus-kiel.example": True}
    nina_id = next(
        m["id"]
        for m in api.ok("GET", f"/organizations/{org}/members", "anna")
        if m["is_org_admin"] and m["email"].startswith("nina")
    )
    assert (
        api.ok("PATCH", f"/organizations/{org}/members/{nina_id}", "anna", json={"admin": False})["is_org_admin"]
        is False
    )
    assert_problem(api.patch(f"/organizations/{org}/members/{api.user_id('anna')}", "anna", json={"admin": False}), 409)
    assert api.delete(f"/organizations/{org}/members/{nina_id}", "anna").status_code == 204
    assert_problem(api.get("/me", headers=nina), 401)
    assert [m["email"] for m in api.ok("GET", f"/organizations/{org}/members", "anna")] == [PEOPLE["anna"]]
