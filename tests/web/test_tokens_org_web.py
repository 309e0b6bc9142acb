"""The tokens page (create with an expiry and a scope, the secret shown once, list, revoke) and the
organization page for its admin (members, roles, invitations, removal); on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from tests.support.portal import Portal


def test_create_a_scoped_token_use_it_and_revoke_it(portal: Portal) -> None:
    anna = portal.browser("anna")
    page = anna.get("/tokens")
    assert page.status_code == 200 and "Create a token" in page.text
    project = portal.api.project_of("bakery")
    r = anna.post("/tokens", {"name": "laptop", "ttl_days": "30", "scope": "project", "project_id": str(project)})
    assert r.status_code == 201
    (secret,) = re.findall(r"<code data-secret>(aif_[^<]+)</code>", r.text)
    assert f"project {project}" in r.text and 'data-token="laptop"' in r.text
    auth = {"Authorization": f"Bearer {secret}"}
    assert portal.api.ok("GET", f"/projects/{project}", headers=auth)["id"] == project
    assert portal.api.get("/proposals", headers=auth).status_code == 403
    assert "data-secret" not in anna.get("/tokens").text  # shown once
    scoped = portal.browser()
    scoped.get("/login")
    refused = scoped.post("/login", {"email": "", "password": secret, "next": "/"})
    assert refused.status_code == 401  # a scoped token opens no portal session
    (made,) = [t for t in portal.api.ok("GET", "/tokens", "anna") if t["name"] == "laptop"]
    r = anna.post(f"/tokens/{made['id']}/revoke", follow=True)
    assert "Token revoked." in r.text and portal.api.get("/me", headers=auth).status_code == 401


def test_token_form_errors_name_the_field(portal: Portal) -> None:
    anna = portal.browser("anna")
    r = anna.post("/tokens", {"name": "x", "ttl_days": "999", "scope": "read"})
    assert r.status_code == 422 and 'id="e-ttl_days"' in r.text
    r = anna.post("/tokens", {"name": "x", "ttl_days": "5", "scope": "project", "project_id": ""})
    assert r.status_code == 422 and 'id="e-project_id"' in r.text
    r = anna.post("/tokens", {"name": "x", "ttl_days": "5", "scope": "root"})
    assert r.status_code == 422 and 'id="e-scope"' in r.text


def test_the_admin_manages_the_organization(portal: Portal) -> None:
    anna = portal.browser("anna")
    page = anna.get("/organization")
    assert page.status_code == 200 and "Backhaus Kiel GmbH" in page.text
    r = anna.post("/organization/invite", {"email": "ben@backhaus-kiel.example", "role": "admin"}, follow=True)
    assert "Invitation sent to ben@backhaus-kiel.example." in r.text
    assert 'data-invitation="ben@backhaus-kiel.example"' in r.text
    org = portal.api.info.org_ids["Backhaus Kiel GmbH"]
    body = {"email": "cleo@backhaus-kiel.example", "name": "Cleo", "organization_id": org}
    cleo = portal.api.ok("POST", "/users", "anna", json=body, status=201)["user"]["id"]
    r = anna.post(f"/organization/members/{cleo}/role", {"admin": "1"}, follow=True)
    assert "Role changed." in r.text and "Make Cleo a member" in r.text
    r = anna.post(f"/organization/members/{cleo}/remove", follow=True)
    assert "Member removed." in r.text and 'data-member="cleo@backhaus-kiel.example"' not in r.text


def test_only_admins_see_the_organization_page(portal: Portal) -> None:
    org = portal.api.info.org_ids["Backhaus Kiel GmbH"]
    body = {"email": "dora@backhaus-kiel.example", "name": "Dora", "organization_id": org}
    token = portal.api.ok("POST", "/users", "anna", json=body, status=201)["token"]["token"]
    dora = portal.browser()
    dora.sign_in("", token)  # a plain member, signed in with her API token
    assert dora.get("/organization").status_code == 403
    assert dora.post("/organization/invite", {"email": "x@y.example", "role": "member"}).status_code == 403
    assert portal.browser("schulz").get("/organization").status_code == 404  # a reviewer of no organization
