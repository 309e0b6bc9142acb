"""The reports over HTTP, on the demo plus a few hand-posted charges: Backhaus (SME, DE) 2 h in 2026-03 and
1.5 h in 2026-04, GridWise (startup, NL) 3 h in 2026-03, and 50 h of a what-if scenario on Backhaus."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aifactory.domain.ledger import EntryKind, LedgerEntry
from aifactory.services import ledger
from tests.support.api import assert_problem

HOUR = 3600


def post_charge(api, key: str, project: str, seconds: int, at: datetime, scenario: str | None = None) -> int:
    with api.uow_factory() as uow:
        alloc = uow.projects.by_proposal(api.pid(project)).allocations[0]
        ledger.post(
            uow,
            LedgerEntry(
                allocation_id=None if scenario else alloc.id,
                project_id=alloc.project_id,
                resource_id=alloc.resource_id,
                kind=EntryKind.CHARGE,
                amount=seconds,
                gpu_seconds=seconds,
                scenario=scenario,
                period=f"{at:%Y-%m}",
                at=at,
                key=key,
            ),
        )
        uow.commit()
        return alloc.id


@pytest.fixture
def charged(api) -> dict[str, int]:
    bakery = post_charge(api, "a1", "bakery", 2 * HOUR, datetime(2026, 3, 10, tzinfo=UTC))
    post_charge(api, "a2", "bakery", 3 * HOUR // 2, datetime(2026, 4, 10, tzinfo=UTC))
    gridwise = post_charge(api, "a3", "gridwise", 3 * HOUR, datetime(2026, 3, 12, tzinfo=UTC))
    post_charge(api, "w1", "bakery", 50 * HOUR, datetime(2026, 3, 12, tzinfo=UTC), scenario="what-if")
    return {"bakery": bakery, "gridwise": gridwise}


def test_gpu_hours_by_org_kind_with_period_and_empty_scenario(api, charged) -> None:
    body = api.ok("GET", "/reports/gpu-hours?by=org_kind&start=2026-01&end=2026-12&scenario=", "operator")
    assert {r["key"]: r["gpu_hours"] for r in body["rows"]} == {"sme": 3.5, "startup": 3.0}
    assert (body["total_gpu_hours"], body["total_entries"], body["scenario"]) == (6.5, 3, None)
    march = api.ok(
        "GET", "/reports/gpu-hours", "operator", params={"by": "country", "start": "2026-03", "end": "2026-03"}
    )
    assert [(r["key"], r["gpu_hours"]) for r in march["rows"]] == [("NL", 3.0), ("DE", 2.0)]
    what_if = api.ok("GET", "/reports/gpu-hours", "operator", params={"by": "month", "scenario": "what-if"})
    assert [(r["key"], r["gpu_hours"], r["entries"]) for r in what_if["rows"]] == [("2026-03", 50.0, 1)]


@pytest.mark.parametrize(
    "query, field",
    [
        ("by=colour", "by"),
        ("start=2026-13", "start"),
        ("end=2026", "end"),
        ("start=2026-05&end=2026-01", "end"),
        ("scenario=" + "x" * 65, "scenario"),
    ],
)
def test_bad_parameters_are_422_naming_them(api, query: str, field: str) -> None:
    assert_problem(api.get(f"/reports/gpu-hours?{query}", "operator"), 422, field)


def test_the_other_reports(api, charged) -> None:
    smes = api.ok("GET", "/reports/smes?start=2026-03&end=2026-03", "operator")
    assert (smes["by_kind"], smes["total"]) == ({"sme": 1, "startup": 1}, 2)
    assert {o["name"] for o in smes["organizations"]} == {"Backhaus Kiel GmbH", "GridWise Analytics"}
    decision = api.ok("GET", "/reports/time-to-decision", "operator")
    assert decision["rows"][-1]["access_mode"] == "all" and decision["rows"][-1]["count"] >= 2
    first = api.ok("GET", "/reports/time-to-first-job", "operator")
    assert first["rows"][-1]["count"] == 0 and first["rows"][-1]["waiting"] >= 2  # the demo ran no job
    util = api.ok("GET", "/reports/utilization?start=2026-03&end=2026-03", "operator")
    assert util["hours"] == 31 * 24
    used = {r["resource_id"]: r for r in util["rows"] if r["gpu_hours"]}
    assert sum(r["gpu_hours"] for r in used.values()) == 5.0
    for r in used.values():
        assert r["utilization"] == pytest.approx(r["gpu_hours"] / (r["gpus"] * 744))
    assert_problem(api.get("/reports/utilization?end=2026-03", "operator"), 422, "start")


def test_members_see_their_burn_down_and_nothing_factory_wide(api, charged) -> None:
    for path in (
        "/reports/gpu-hours",
        "/reports/smes",
        "/reports/time-to-decision",
        "/reports/time-to-first-job",
        "/reports/utilization?start=2026-01&end=2026-02",
    ):
        assert_problem(api.get(path, "anna"), 403, detail="operators")
    bd = api.ok("GET", f"/allocations/{charged['bakery']}/burn-down?by=month", "anna")
    assert [(p["at"], p["charged_gpu_hours"]) for p in bd["points"]][-2:] == [("2026-03", 2.0), ("2026-04", 3.5)]
    assert bd["charged_gpu_hours"] == 3.5  # the scenario's 50 h are no part of it
    assert api.ok("GET", f"/allocations/{charged['bakery']}/burn-down", "lars")["allocation_id"] == charged["bakery"]
    assert_problem(api.get(f"/allocations/{charged['bakery']}/burn-down", "claire"), 404)
    assert_problem(api.get(f"/allocations/{charged['bakery']}/burn-down?by=week", "anna"), 422, "by")
    assert_problem(api.get("/reports/gpu-hours"), 401)
