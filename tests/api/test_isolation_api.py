"""Tenant isolation: an organization never sees another's proposals or projects; reviewers see what they are
assigned; operators see everything."""

from __future__ import annotations

import pytest

from tests.support.api import assert_problem

ALL = {"bakery", "medvision", "autonomia", "juelich", "gridwise"}
VISIBLE = {  # who -> proposals they may see
    "anna": {"bakery"},
    "lars": {"bakery"},
    "claire": {"medvision"},
    "marco": {"autonomia"},
    "eva": {"juelich"},
    "daan": {"gridwise"},
    "schulz": {"medvision"},
    "novak": {"gridwise"},
    "operator": ALL,
}
PROJECTS = {
    "anna": {"bakery"},
    "lars": {"bakery"},
    "daan": {"gridwise"},
    "claire": set(),
    "eva": set(),
    "schulz": set(),
    "operator": {"bakery", "gridwise"},
}


def ids(api, keys):
    return {api.pid(k) for k in keys}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_each_user_lists_and_reads_exactly_their_proposals(api, who):
    page = api.ok("GET", "/proposals", who)
    assert {p["id"] for p in page["items"]} == ids(api, VISIBLE[who])
    assert page["total"] == len(VISIBLE[who])
    for key in ALL:
        r = api.get(f"/proposals/{api.pid(key)}", who)
        if key in VISIBLE[who]:
            assert r.status_code == 200
        else:
            assert_problem(r, 404)
            assert str(api.pid(key)) in r.json()["detail"]


def test_a_foreign_proposal_looks_exactly_like_a_missing_one(api):
    foreign, missing = api.get(f"/proposals/{api.pid('medvision')}", "anna"), api.get("/proposals/9999", "anna")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].replace(str(api.pid("medvision")), "N") == missing.json()["detail"].replace(
        "9999", "N"
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/proposals/{id}", {"title": "Hijacked"}),
        ("POST", "/proposals/{id}/submit", None),
        ("POST", "/proposals/{id}/withdraw", None),
        ("GET", "/proposals/{id}/reviews", None),
    ],
)
def test_other_organizations_cannot_touch_a_draft(api, method, path, body):
    target = api.pid("juelich")  # Stadt Jülich's draft
    before = api.counts()
    for who in ("anna", "claire", "daan", "schulz"):
        assert_problem(api.request(method, path.format(id=target), who, json=body), 404)
    assert api.counts() == before
    p = api.ok("GET", f"/proposals/{target}", "eva")
    assert (p["status"], p["title"]) == ("draft", "Chatbot for citizen services (draft)")


def test_partners_see_but_cannot_change(api):
    bakery = api.pid("bakery")
    assert (
        api.ok("GET", f"/proposals/{bakery}", "lars")["lead_organization_id"] == api.info.org_ids["Backhaus Kiel GmbH"]
    )
    assert_problem(api.post(f"/proposals/{bakery}/withdraw", "lars"), 403)


@pytest.mark.parametrize("who", sorted(PROJECTS))
def test_projects_and_allocations_follow_membership(api, who):
    visible = {api.project_of(k) for k in PROJECTS[who]}
    page = api.ok("GET", "/projects", who)
    assert {p["id"] for p in page["items"]} == visible and page["total"] == len(visible)
    allocations = api.ok("GET", "/allocations", who)["items"]
    assert {a["project_id"] for a in allocations} == visible
    for key in ("bakery", "gridwise"):
        project = api.project_of(key)
        r = api.get(f"/projects/{project}", who)
        if project in visible:
            assert r.status_code == 200
        else:
            assert_problem(r, 404)
            assert_problem(api.get(f"/allocations?project_id={project}", who), 404)
            assert_problem(api.post(f"/projects/{project}/members", who, json={"user_id": 1}), 404)


def test_allocations_of_others_are_404(api):
    [alloc] = api.ok("GET", "/allocations", "daan")["items"]
    assert_problem(api.get(f"/allocations/{alloc['id']}", "anna"), 404)
    assert api.ok("GET", f"/allocations/{alloc['id']}", "operator")["id"] == alloc["id"]


def test_reviewers_see_reviews_of_their_assignments_only(api):
    gridwise = api.pid("gridwise")
    assert len(api.ok("GET", f"/proposals/{gridwise}/reviews", "novak")) == 1
    assert_problem(api.get(f"/proposals/{gridwise}/reviews", "schulz"), 404)
    assert_problem(
        api.post(
            f"/proposals/{gridwise}/reviews",
            "schulz",
            json={"scores": {"excellence": 1, "impact": 1, "feasibility": 1}},
        ),
        404,  # a proposal the reviewer may not see is not confirmed (tests/api/test_not_yours_api.py)
    )
    named = api.ok("GET", f"/proposals/{gridwise}/reviews", "operator")
    assert named[0]["reviewer_id"] == api.user_id("novak")
    assert api.ok("GET", f"/proposals/{gridwise}/reviews", "daan")[0]["reviewer_id"] is None


def test_users_are_listed_within_the_own_organization(api):
    page = api.ok("GET", "/users", "anna")
    assert [u["email"] for u in page["items"]] == ["anna@backhaus-kiel.example"]
    assert_problem(api.get(f"/users?organization_id={api.info.org_ids['MedVision AI']}", "anna"), 403)
    assert_problem(api.get("/users", "schulz"), 403)  # no organization
    assert api.ok("GET", "/users", "operator")["total"] == 9


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/audit", None),
        ("POST", "/sites", {"slug": "x", "name": "X", "country": "DE"}),
        (
            "POST",
            "/calls",
            {
                "slug": "x",
                "title": "X",
                "access_mode": "playground",
                "site_id": 1,
                "opens_on": "2026-03-01",
                "max_gpu_hours": 10,
                "resource_ids": [1],
            },
        ),
        ("PATCH", "/calls/1", {"closed": True}),
        ("POST", "/proposals/{medvision}/reviewers", {"reviewer_ids": [1]}),
        ("POST", "/proposals/{medvision}/decision", {"decision": "reject", "reason": "no"}),
        ("PATCH", "/users/1/roles", {"is_operator": True}),
        ("POST", "/users", {"email": "x@y.example", "name": "X", "organization_id": None}),
    ],
)
def test_operator_only_endpoints_are_403_for_others(api, method, path, body):
    before = api.counts()
    for who in ("anna", "schulz"):
        assert_problem(api.request(method, path.format(medvision=api.pid("medvision")), who, json=body), 403)
    assert api.counts() == before
