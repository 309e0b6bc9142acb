"""Pagination (limit/offset/total) and filters of the list endpoints, and the operators' urgency order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import assert_problem


def test_proposals_paginate_with_a_stable_total(api):
    full = api.ok("GET", "/proposals?order=created&limit=200", "operator")
    assert full["total"] == 5 and len(full["items"]) == 5
    seen = []
    for offset in range(0, 6, 2):
        page = api.ok("GET", f"/proposals?order=created&limit=2&offset={offset}", "operator")
        assert (page["total"], page["limit"], page["offset"]) == (5, 2, offset)
        seen += [p["id"] for p in page["items"]]
    assert seen == [p["id"] for p in full["items"]] == sorted(seen, reverse=True)
    beyond = api.ok("GET", "/proposals?offset=50", "operator")
    assert (beyond["items"], beyond["total"]) == ([], 5)


def test_operators_get_the_most_urgent_first(api):
    api.clock.advance(days=4)  # Friday 6 March: medvision (due 6 March) is due; the bakery's deadline passed
    items = api.ok("GET", "/proposals", "operator")["items"]
    pending = [(p["id"], p["due_status"]) for p in items if p["status"] in ("submitted", "under_review")]
    assert pending == [(api.pid("medvision"), "due_soon"), (api.pid("autonomia"), "on_track")]
    assert [p["id"] for p in items[:2]] == [api.pid("medvision"), api.pid("autonomia")]
    api.clock.advance(days=1)
    first = api.ok("GET", "/proposals", "operator")["items"][0]
    assert (first["id"], first["due_status"]) == (api.pid("medvision"), "overdue")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=accepted", {"bakery", "gridwise"}),
        ("status=draft", {"juelich"}),
        ("status=under_review", {"medvision"}),
        ("status=rejected", set()),
        ("call_id={playground}", {"bakery", "juelich"}),
        ("call_id={fast_lane}&status=accepted", {"gridwise"}),
        ("call_id=9999", set()),
    ],
)
def test_proposal_filters(api, query, expected):
    page = api.ok("GET", "/proposals?" + query.format(**api.info.call_ids), "operator")
    assert {p["id"] for p in page["items"]} == {api.pid(k) for k in expected}
    assert page["total"] == len(expected)


def test_filters_never_widen_what_a_tenant_sees(api):
    page = api.ok("GET", f"/proposals?call_id={api.info.call_ids['fast_lane']}", "claire")
    assert [p["id"] for p in page["items"]] == [api.pid("medvision")]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("kind=startup", ["GridWise Analytics", "MedVision AI"]),
        ("country=de", ["Backhaus Kiel GmbH", "Forschungszentrum Nord", "Stadt Jülich"]),
        ("kind=academia&country=DE", ["Forschungszentrum Nord"]),
        ("q=kiel", ["Backhaus Kiel GmbH"]),
        ("q=%25", []),  # a literal percent sign, not a wildcard
        ("country=FR&kind=sme", []),
    ],
)
def test_organization_filters(api, query, names):
    page = api.ok("GET", "/organizations?" + query, "operator")  # operators search; applicants see less
    assert [o["name"] for o in page["items"]] == names and page["total"] == len(names)


def test_organizations_paginate(api):
    page = api.ok("GET", "/organizations?limit=4&offset=4", "operator")
    assert (page["total"], len(page["items"])) == (6, 2)


def test_call_filters(api):
    fast = api.ok("GET", "/calls?access_mode=fast_lane", "anna")
    assert [c["slug"] for c in fast["items"]] == ["fast-lane-2026"]
    api.ok("PATCH", f"/calls/{api.info.call_ids['fast_lane']}", "operator", json={"closed": True})
    open_calls = api.ok("GET", "/calls?open=true", "anna")
    assert {c["access_mode"] for c in open_calls["items"]} == {"playground", "large_scale"}
    assert all(c["is_open"] for c in open_calls["items"])
    assert api.ok("GET", "/calls", "anna")["total"] == 3


def test_audit_log_filters_and_pagination(api):
    pid = api.pid("gridwise")
    events = api.ok("GET", f"/audit?entity_type=proposal&entity_id={pid}&limit=200", "operator")
    assert [e["action"] for e in reversed(events["items"])] == [
        "proposal.created",
        "proposal.submitted",
        "proposal.reviewers_assigned",
        "proposal.accepted",
    ]
    accepted = events["items"][0]
    assert (accepted["before"]["status"], accepted["after"]["status"]) == ("under_review", "accepted")
    assert accepted["actor_id"] == api.user_id("operator")
    assert accepted["occurred_at"] == "2026-03-02T09:00:00Z"

    by_actor = api.ok("GET", f"/audit?actor_id={api.user_id('daan')}", "operator")["items"]
    assert by_actor and {e["actor_id"] for e in by_actor} == {api.user_id("daan")}
    by_action = api.ok("GET", "/audit?action=proposal.auto_accepted", "operator")
    assert by_action["total"] == 1 and by_action["items"][0]["actor_id"] is None

    total = api.ok("GET", "/audit", "operator")["total"]
    page = api.ok("GET", "/audit?limit=5&offset=5", "operator")
    assert (page["total"], len(page["items"])) == (total, 5)

    api.clock.advance(hours=1)
    api.ok("POST", f"/proposals/{api.pid('autonomia')}/withdraw", "marco")
    since = (api.clock.now() - timedelta(minutes=1)).replace(tzinfo=None).isoformat()
    recent = api.ok("GET", f"/audit?since={since}", "operator")["items"]
    assert [e["action"] for e in recent] == ["proposal.withdrawn"]
    until = datetime(2026, 3, 2, 9, 30, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    assert api.ok("GET", f"/audit?until={until}", "operator")["total"] == total


def test_audit_log_is_for_operators(api):
    assert_problem(api.get("/audit", "anna"), 403)
    assert_problem(api.get("/audit?entity_type=" + "x" * 40, "operator"), 422, "entity_type")
