"""An allocation's balance and ledger over HTTP: members read their own, operators adjust and suspend, and
a job's run shows up as reserve → charge → release; other tenants get 404, bad input problem+json."""

from __future__ import annotations

import sys

from tests.support.api import Api, assert_problem, settle


def test_balance_and_entries_follow_a_job(api: Api) -> None:
    alloc = api.ok("GET", "/allocations/1", "anna")
    assert (alloc["granted_gpu_hours"], alloc["used_gpu_hours"], alloc["available_gpu_hours"]) == (500, 0, 500)
    job = api.ok(
        "POST",
        "/jobs",
        "anna",
        status=201,
        json={
            "name": "tiny",
            "project": 1,
            "command": [sys.executable, "-c", "print(1)"],
            "resources": {"gpus_per_node": 2, "time": 30},
        },
    )
    assert api.ok("GET", "/allocations/1", "anna")["reserved_gpu_hours"] == 1.0  # 2 GPUs x 30 min
    assert settle(api, job["id"])["state"] == "completed"
    alloc = api.ok("GET", "/allocations/1", "anna")
    assert alloc["reserved_gpu_hours"] == 0 and 0 < alloc["used_gpu_hours"] < 0.1
    kinds = [e["kind"] for e in api.ok("GET", "/allocations/1/ledger", "anna")["items"]]
    assert kinds == ["release", "charge", "reserve", "grant"]  # newest first
    charges = api.ok("GET", "/allocations/1/ledger?kind=charge", "anna")["items"]
    assert [c["job_id"] for c in charges] == [job["id"]] and charges[0]["amount_gpu_seconds"] >= 2


def test_operators_adjust_and_suspend_members_cannot(api: Api) -> None:
    assert_problem(api.post("/allocations/1/adjust", "anna", json={"gpu_hours": 100, "reason": "more"}), 403)
    assert_problem(api.post("/allocations/1/adjust", "operator", json={"gpu_hours": 100}), 422, "reason")
    assert_problem(
        api.post("/allocations/1/adjust", "operator", json={"gpu_hours": -600, "reason": "x"}), 422, "gpu_hours"
    )
    up = api.ok(
        "POST", "/allocations/1/adjust", "operator", json={"gpu_hours": 50, "reason": "pilot phase 2", "key": "t1"}
    )
    again = api.ok(
        "POST", "/allocations/1/adjust", "operator", json={"gpu_hours": 50, "reason": "pilot phase 2", "key": "t1"}
    )
    assert up["granted_gpu_hours"] == again["granted_gpu_hours"] == 550
    assert api.ok("POST", "/allocations/1/suspend", "operator", json={"reason": "invoice"})["status"] == "suspended"
    assert_problem(api.post("/allocations/1/suspend", "operator", json={"reason": "again"}), 409)
    refused = api.post("/jobs", "anna", json={"name": "x", "project": 1, "command": ["true"]})
    assert_problem(refused, 422, "project", detail="suspended")
    assert api.ok("POST", "/allocations/1/resume", "operator")["status"] == "active"
    audit = api.ok("GET", "/audit?entity_type=allocation&entity_id=1", "operator")["items"]
    assert {"allocation.adjusted", "allocation.suspended", "allocation.resumed"} <= {e["action"] for e in audit}


def test_other_tenants_see_nothing(api: Api) -> None:
    assert_problem(api.get("/allocations/1/ledger", "claire"), 404)
    assert_problem(api.get("/allocations/999/ledger", "operator"), 404)
    assert_problem(api.get("/allocations/1/ledger?kind=bogus", "anna"), 422, "kind")
