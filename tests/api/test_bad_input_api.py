"""Bad input gets a clear 4xx problem+json and leaves nothing half-written."""

from __future__ import annotations

import json

import pytest

from tests.support.api import assert_problem


def draft(api, **kw):
    body = {
        "call_id": api.info.call_ids["playground"],
        "title": "A title",
        "requested_gpu_hours": 100,
        "resource_id": api.info.resource_ids["booster"],
        "duration_months": 1,
    }
    return {**body, **kw}


@pytest.fixture
def unchanged(api):
    """Asserts after the test that no table changed (no half-written records)."""
    before = api.counts()
    yield
    assert api.counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"requested_gpu_hours": -10}, "requested_gpu_hours"),
        ({"requested_gpu_hours": 0}, "requested_gpu_hours"),
        ({"requested_gpu_hours": 10**12}, "requested_gpu_hours"),
        ({"requested_gpu_hours": "lots"}, "requested_gpu_hours"),
        ({"requested_gpu_hours": 1.5}, "requested_gpu_hours"),
        ({"call_id": "one"}, "call_id"),
        ({"duration_months": 61}, "duration_months"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"application_field": "astrology"}, "application_field"),
        ({"ethics": {"risk_category": "catastrophic"}}, "ethics.risk_category"),
        ({"ethics": {"personal_data": "maybe"}}, "ethics.personal_data"),
        ({"team": [{"name": "Lars"}]}, "team.0.email"),
        ({"partner_organization_ids": ["x"]}, "partner_organization_ids.0"),
        ({"budget_eur": 100}, "budget_eur"),
        ({"ethics": {"risk": "high"}}, "ethics.risk"),
        ({"resource_id": 999}, "resource_id"),
        ({"partner_organization_ids": [999]}, "partner_organization_ids"),
    ],
)
def test_invalid_drafts_are_422_naming_the_field(api, unchanged, change, field):
    assert_problem(api.post("/proposals", "anna", json=draft(api, **change)), 422, field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"requested_gpu_hours": None}, "requested_gpu_hours"),
        ({"resource_id": None}, "resource_id"),
        ({"duration_months": None}, "duration_months"),
        ({"team": None}, "team"),
        ({"ethics": None}, "ethics"),
        ({"requested_gpu_hours": -1}, "requested_gpu_hours"),
        ({"resource_id": 999}, "resource_id"),  # unknown references: checked before the row is written
        ({"partner_organization_ids": [999]}, "partner_organization_ids"),
        ({"status": "accepted"}, "status"),
        ({"call_id": 2}, "call_id"),
    ],
)
def test_invalid_edits_are_422_and_change_nothing(api, unchanged, change, field):
    pid = api.pid("juelich")
    before = api.ok("GET", f"/proposals/{pid}", "eva")
    assert_problem(api.patch(f"/proposals/{pid}", "eva", json=change), 422, field)
    assert api.ok("GET", f"/proposals/{pid}", "eva") == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),
        ({"max_gpu_hours": None}, "max_gpu_hours"),
        ({"durations_months": None}, "durations_months"),
        ({"resource_ids": None}, "resource_ids"),
        ({"eligible_countries": ["ZZ"]}, "eligible_countries"),
        ({"eligible_countries": ["DEU"]}, "eligible_countries.0"),
        ({"max_gpu_hours": -1}, "max_gpu_hours"),
        ({"auto_approve_gpu_hours": 5_000}, "auto_approve_gpu_hours"),
        ({"slug": "renamed"}, "slug"),
        ({"resource_ids": [999]}, "resource_ids"),
    ],
)
def test_invalid_call_changes_are_422(api, unchanged, change, field):
    cid = api.info.call_ids["playground"]
    assert_problem(api.patch(f"/calls/{cid}", "operator", json=change), 422, field)


def test_nullable_call_settings_can_be_cleared(api):
    cid = api.info.call_ids["playground"]
    call = api.ok("PATCH", f"/calls/{cid}", "operator", json={"auto_approve_gpu_hours": None, "closes_on": None})
    assert call["auto_approve_gpu_hours"] is None and call["closes_on"] is None


def test_invalid_transitions(api, unchanged):
    # deciding a draft
    assert_problem(
        api.post(f"/proposals/{api.pid('juelich')}/decision", "operator", json={"decision": "accept"}),
        409,
        detail="draft",
    )
    # deciding an accepted proposal
    assert_problem(
        api.post(
            f"/proposals/{api.pid('gridwise')}/decision",
            "operator",
            json={"decision": "reject", "reason": "changed my mind"},
        ),
        409,
        detail="final",
    )
    # editing or submitting a submitted proposal
    assert_problem(api.patch(f"/proposals/{api.pid('autonomia')}", "marco", json={"title": "x"}), 409)
    assert_problem(api.post(f"/proposals/{api.pid('autonomia')}/submit", "marco"), 409, detail="submitted")
    # accepting before the required reviews are in
    assert_problem(
        api.post(f"/proposals/{api.pid('medvision')}/decision", "operator", json={"decision": "accept"}),
        409,
        detail="required reviews",
    )


def test_awarding_more_than_requested_is_422(api):
    api.ok(
        "POST",
        f"/proposals/{api.pid('medvision')}/reviews",
        "schulz",
        json={"scores": {"excellence": 3, "impact": 3, "feasibility": 3}, "declare_no_conflict": True},
        status=201,
    )
    before = api.counts()
    assert_problem(
        api.post(
            f"/proposals/{api.pid('medvision')}/decision",
            "operator",
            json={"decision": "accept", "awarded_gpu_hours": 20_001},
        ),
        422,
        "awarded_gpu_hours",
    )
    assert api.counts() == before
    assert api.ok("GET", f"/proposals/{api.pid('medvision')}", "claire")["status"] == "under_review"


def test_reviewing_your_own_organizations_proposal_is_403(api):
    medvision = api.info.org_ids["MedVision AI"]
    insider = api.ok(
        "POST",
        "/users",
        "operator",
        status=201,
        json={"email": "rev@medvision.example", "name": "Insider", "organization_id": medvision, "is_reviewer": True},
    )
    before = api.counts()
    pid = api.pid("medvision")
    assert_problem(
        api.post(f"/proposals/{pid}/reviewers", "operator", json={"reviewer_ids": [insider["user"]["id"]]}),
        403,
        detail="conflict of interest",
    )
    auth = {"Authorization": f"Bearer {insider['token']['token']}"}
    assert_problem(
        api.post(
            f"/proposals/{pid}/reviews", headers=auth, json={"scores": {"excellence": 5, "impact": 5, "feasibility": 5}}
        ),
        403,
    )
    assert api.counts() == before


def test_submitting_to_a_closed_call_is_422(api):
    api.ok("PATCH", f"/calls/{api.info.call_ids['playground']}", "operator", json={"closed": True})
    before = api.counts()
    assert_problem(api.post(f"/proposals/{api.pid('juelich')}/submit", "eva"), 422, "call", detail="not open")
    assert api.counts() == before
    assert api.ok("GET", f"/proposals/{api.pid('juelich')}", "eva")["status"] == "draft"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/proposals/9999"),
        ("PATCH", "/proposals/9999"),
        ("POST", "/proposals/9999/submit"),
        ("POST", "/proposals/9999/withdraw"),
        ("GET", "/proposals/9999/reviews"),
        ("GET", "/calls/9999"),
        ("GET", "/projects/9999"),
        ("GET", "/allocations/9999"),
        ("GET", "/organizations/9999"),
        ("GET", "/resources/9999"),
        ("DELETE", "/tokens/9999"),
        ("PATCH", "/calls/9999"),
        ("POST", "/proposals/9999/reviewers"),
        ("POST", "/proposals/9999/decision"),
        ("PATCH", "/users/9999/roles"),
        ("POST", "/sites/9999/resources"),
    ],
)
def test_unknown_ids_are_404(api, unchanged, method, path):
    who = "operator" if method != "GET" or "proposals" not in path else "anna"
    bodies = {
        "reviewers": {"reviewer_ids": [1]},
        "decision": {"decision": "reject", "reason": "x"},
        "resources": {"name": "x", "nodes": 1, "gpus_per_node": 1, "cpus_per_node": 1, "memory_gb_per_node": 1},
    }
    body = next((b for k, b in bodies.items() if path.endswith(k)), {} if method in ("PATCH", "POST") else None)
    assert_problem(api.request(method, path, who, json=body), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/proposals/abc",
        "/proposals/1.5",
        "/calls/x",
        "/proposals?limit=0",
        "/proposals?limit=1000",
        "/proposals?offset=-1",
        "/proposals?status=lost",
        "/proposals?call_id=one",
        "/organizations?kind=giant",
        "/audit?since=yesterday",
    ],
)
def test_wrong_types_in_path_and_query_are_422_naming_the_parameter(api, path):
    name = path.split("?")[1].split("=")[0] if "?" in path else path.rsplit("/", 2)[1][:-1] + "_id"
    assert_problem(api.get(path, "operator"), 422, name)


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"a string"', b""])
def test_malformed_bodies_are_422(api, unchanged, payload):
    r = api.post("/proposals", "anna", content=payload, headers={"Content-Type": "application/json"})
    assert_problem(r, 422)


def test_oversized_body_with_content_length_is_413(api, unchanged):
    body = json.dumps(draft(api, abstract="x" * (1024 * 1024))).encode()
    assert_problem(
        api.post("/proposals", "anna", content=body, headers={"Content-Type": "application/json"}),
        413,
        detail="1,048,576 bytes",
    )


def test_oversized_chunked_body_without_content_length_is_413(api, unchanged):
    def chunks():
        yield b'{"title": "'
        for _ in range(20):
            yield b"x" * 65_536
        yield b'"}'

    r = api.post("/proposals", "anna", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert_problem(r, 413, detail="1,048,576 bytes")


def test_a_lying_content_length_is_refused(api, unchanged):
    assert_problem(
        api.post(
            "/proposals", "anna", content=b"{}", headers={"Content-Type": "application/json", "Content-Length": "abc"}
        ),
        413,
    )


def test_a_body_just_under_the_limit_is_read(api):
    body = json.dumps(draft(api, abstract="x" * 19_000)).encode()
    assert len(body) < 1024 * 1024
    assert api.post("/proposals", "anna", content=body, headers={"Content-Type": "application/json"}).status_code == 201


def test_unknown_routes_and_methods_are_problems(api):
    assert_problem(api.get("/nope", "anna"), 404)
    assert_problem(api.request("PUT", "/proposals", "anna", json={}), 405)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/proposals/2147483648", None, "proposal_id"),
        ("GET", "/proposals/99999999999999999999999", None, "proposal_id"),
        ("GET", "/proposals/0", None, "proposal_id"),
        ("DELETE", "/tokens/-1", None, "token_id"),
        ("GET", "/proposals?call_id=9223372036854775808", None, "call_id"),
        ("GET", "/audit?entity_id=9223372036854775808", None, "entity_id"),
        ("POST", "/proposals", {"partner_organization_ids": [2**63]}, "partner_organization_ids.0"),
        ("POST", "/proposals/1/reviewers", {"reviewer_ids": [2**40]}, "reviewer_ids.0"),
        ("POST", "/users", {"email": "x@y.example", "name": "X", "organization_id": 2**31}, "organization_id"),
    ],
)
def test_ids_beyond_the_integer_range_are_422_not_500(api, unchanged, method, path, body, field):
    if path == "/proposals":
        body = draft(api, **body)
    assert_problem(api.request(method, path, "operator", json=body), 422, field)
