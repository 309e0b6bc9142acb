"""Happy paths through the API: drafting to acceptance, reviews and decisions, projects and members."""

from __future__ import annotations

from tests.support.api import assert_problem

SCORES = {"excellence": 4, "impact": 4, "feasibility": 5}


def draft_body(api, mode="playground", **kw):
    body = {
        "call_id": api.info.call_ids[mode],
        "title": "Sourdough demand model",
        "abstract": "Forecast sourdough demand per branch from sales and weather.",
        "application_field": "food",
        "requested_gpu_hours": 400,
        "resource_id": api.info.resource_ids["develop"],
        "duration_months": 1,
        "team": [{"name": "Anna Petersen", "email": "anna@backhaus-kiel.example", "role": "PI"}],
        "ethics": {"risk_category": "minimal"},
    }
    return {**body, **kw}


def test_playground_draft_edit_submit_accepts_with_project_and_allocation(api):
    p = api.ok("POST", "/proposals", "anna", json=draft_body(api), status=201)
    assert (p["status"], p["due_status"], p["ethics"]["flags"]) == ("draft", "not_submitted", [])
    p = api.ok(
        "PATCH",
        f"/proposals/{p['id']}",
        "anna",
        json={"requested_gpu_hours": 900, "ethics": {"notes": "Only aggregated sales data."}},
    )
    assert (p["requested_gpu_hours"], p["ethics"]["notes"]) == (900, "Only aggregated sales data.")
    p = api.ok("POST", f"/proposals/{p['id']}/submit", "anna")
    assert (p["status"], p["awarded_gpu_hours"], p["decision_deadline"]) == ("accepted", 900, "2026-03-04")
    project = next(pr for pr in api.ok("GET", "/projects", "anna")["items"] if pr["proposal_id"] == p["id"])
    assert project["allocations"][0]["gpu_hours"] == 900
    assert (project["allocations"][0]["start_date"], project["allocations"][0]["end_date"]) == (
        "2026-03-02",
        "2026-04-01",
    )
    allocs = api.ok("GET", f"/allocations?project_id={project['id']}", "anna")
    assert allocs["total"] == 1 and allocs["items"][0]["status"] == "active"
    alloc = api.ok("GET", f"/allocations/{allocs['items'][0]['id']}", "anna")
    assert alloc["project_id"] == project["id"]


def test_flagged_playground_proposal_waits_for_review(api):
    body = draft_body(api, ethics={"risk_category": "high", "personal_data": True})
    p = api.ok("POST", "/proposals", "anna", json=body, status=201)
    p = api.ok("POST", f"/proposals/{p['id']}/submit", "anna")
    assert p["status"] == "submitted"
    assert p["ethics"]["flags"] == ["risk:high", "personal_data"]
    assert p["due_status"] == "due_soon"


def test_prohibited_practice_is_refused_at_submission(api):
    p = api.ok("POST", "/proposals", "anna", json=draft_body(api, ethics={"risk_category": "prohibited"}), status=201)
    before = api.counts()
    assert_problem(api.post(f"/proposals/{p['id']}/submit", "anna"), 422, "risk_category", detail="prohibited")
    assert api.counts() == before
    assert api.ok("GET", f"/proposals/{p['id']}", "anna")["status"] == "draft"


def test_review_and_decision_of_the_medvision_proposal(api):
    pid = api.pid("medvision")
    queue = api.ok("GET", "/reviews/queue", "schulz")
    assert [(q["proposal_id"], q["reviewed"]) for q in queue] == [(pid, False)]
    assert "health_data" in queue[0]["ethics_flags"]
    r = api.ok(
        "POST",
        f"/proposals/{pid}/reviews",
        "schulz",
        status=201,
        json={
            "scores": SCORES,
            "comments": {"feasibility": "Data access is settled."},
            "summary": "Good.",
            "declare_no_conflict": True,
        },
    )
    assert (r["scores"], r["mean_score"], r["reviewer_id"]) == (SCORES, 4.33, api.user_id("schulz"))
    assert api.ok("GET", "/reviews/queue", "schulz")[0]["reviewed"] is True
    assert api.ok("GET", f"/proposals/{pid}/reviews", "claire") == []  # not before the decision
    p = api.ok(
        "POST",
        f"/proposals/{pid}/decision",
        "operator",
        json={
            "decision": "accept",
            "awarded_gpu_hours": 15_000,
            "reason": "Reduced scope.",
            "start_date": "2026-04-01",
        },
    )
    assert (p["status"], p["awarded_gpu_hours"], p["due_status"]) == ("accepted", 15_000, "decided")
    seen = api.ok("GET", f"/proposals/{pid}/reviews", "claire")
    assert len(seen) == 1 and seen[0]["reviewer_id"] is None  # anonymous to the applicant
    [project] = api.ok("GET", "/projects", "claire")["items"]
    assert project["allocations"][0]["start_date"] == "2026-04-01"
    assert project["allocations"][0]["end_date"] == "2026-06-30"


def test_assign_reviewers_then_reject_with_reason(api):
    pid = api.pid("autonomia")
    ids = [api.user_id("schulz"), api.user_id("novak")]
    assigned = api.ok("POST", f"/proposals/{pid}/reviewers", "operator", json={"reviewer_ids": ids})
    assert sorted(a["reviewer_id"] for a in assigned) == sorted(ids)
    assert api.ok("GET", f"/proposals/{pid}", "marco")["status"] == "under_review"
    assert_problem(api.post(f"/proposals/{pid}/decision", "operator", json={"decision": "reject"}), 422, "reason")
    p = api.ok(
        "POST",
        f"/proposals/{pid}/decision",
        "operator",
        json={"decision": "reject", "reason": "Outside the call's scope."},
    )
    assert (p["status"], p["decision_reason"]) == ("rejected", "Outside the call's scope.")
    assert api.ok("GET", "/projects", "marco")["total"] == 0


def test_withdraw(api):
    p = api.ok("POST", f"/proposals/{api.pid('autonomia')}/withdraw", "marco")
    assert p["status"] == "withdrawn"
    assert_problem(api.post(f"/proposals/{api.pid('autonomia')}/withdraw", "marco"), 409, detail="final")


def test_pi_manages_members(api):
    project = api.project_of("bakery")
    colleague = api.ok(
        "POST",
        "/users",
        "anna",
        status=201,
        json={
            "email": "ben@backhaus-kiel.example",
            "name": "Ben",
            "organization_id": api.info.org_ids["Backhaus Kiel GmbH"],
        },
    )
    ben = colleague["user"]["id"]
    m = api.ok("POST", f"/projects/{project}/members", "anna", json={"user_id": ben}, status=201)
    assert (m["user_id"], m["role"]) == (ben, "member")
    ben_auth = {"Authorization": f"Bearer {colleague['token']['token']}"}
    assert api.ok("GET", f"/projects/{project}", headers=ben_auth)["id"] == project
    assert_problem(
        api.post(f"/projects/{project}/members", json={"email": "eva@juelich.example"}, headers=ben_auth), 403
    )
    assert_problem(
        api.post(f"/projects/{project}/members", "anna", json={"user_id": api.user_id("eva")}),
        403,
        detail="organizations",
    )
    invited = api.ok("POST", f"/projects/{project}/members", "anna", json={"email": "eva@juelich.example"}, status=202)
    assert invited["email"] == "eva@juelich.example"  # by e-mail: an invitation, whoever the address belongs to
    assert api.delete(f"/projects/{project}/members/{ben}", "anna").status_code == 204
    assert_problem(api.get(f"/projects/{project}", headers=ben_auth), 404)
    assert_problem(api.delete(f"/projects/{project}/members/{api.user_id('anna')}", "anna"), 409, detail="PI")


def test_operator_manages_sites_resources_calls_and_users(api):
    site = api.ok(
        "POST",
        "/sites",
        "operator",
        status=201,
        json={"slug": "hammerhai", "name": "HammerHAI", "country": "DE", "holiday_subdivision": "BW"},
    )
    res = api.ok(
        "POST",
        f"/sites/{site['id']}/resources",
        "operator",
        status=201,
        json={
            "name": "gpu",
            "gpu_model": "H100",
            "nodes": 10,
            "gpus_per_node": 4,
            "cpus_per_node": 64,
            "memory_gb_per_node": 512,
        },
    )
    assert api.ok("GET", f"/resources/{res['id']}", "anna")["gpu_model"] == "H100"
    assert [s["slug"] for s in api.ok("GET", "/sites", "anna")] == ["jupiter", "hammerhai"]
    call = api.ok(
        "POST",
        "/calls",
        "operator",
        status=201,
        json={
            "slug": "hammer-fast",
            "title": "Fast lane BW",
            "access_mode": "fast_lane",
            "site_id": site["id"],
            "opens_on": "2026-03-01",
            "max_gpu_hours": 5_000,
            "resource_ids": [res["id"]],
            "eligible_countries": ["de", "at"],
        },
    )
    assert (call["is_open"], call["eligible_countries"]) == (True, ["DE", "AT"])
    call = api.ok("PATCH", f"/calls/{call['id']}", "operator", json={"closed": True, "closes_on": None})
    assert call["is_open"] is False
    assert api.ok("GET", f"/calls/{call['id']}", "anna")["closed"] is True
    rev = api.ok(
        "POST",
        "/users",
        "operator",
        status=201,
        json={"email": "rev@kit.example", "name": "Reviewer", "is_reviewer": True},
    )
    assert rev["user"]["is_reviewer"] and rev["user"]["organization_id"] is None
    roles = api.ok("PATCH", f"/users/{rev['user']['id']}/roles", "operator", json={"is_reviewer": False})
    assert roles["is_reviewer"] is False
    assert api.ok("GET", f"/organizations/{api.info.org_ids['MedVision AI']}", "anna")["country"] == "FR"
