"""GET /notifications on the demo: members see their projects' notifications, operators all, other tenants
nothing (and a 404 for a project they may not see); paging like every list; bad input as problem+json."""

from __future__ import annotations

import pytest

from aifactory.services.notifications import note
from tests.support.api import Api, assert_problem


@pytest.fixture
def raised(api: Api) -> dict[str, int]:
    """Three notifications: two on the bakery's allocation, one on GridWise's. Returns the project ids."""
    ids = {"bakery": api.project_of("bakery"), "gridwise": api.project_of("gridwise")}
    with api.uow_factory() as uow:
        bakery, grid = (uow.projects.get(ids[k]).allocations[0] for k in ("bakery", "gridwise"))
        note(uow, api.clock, bakery, "threshold-50", "Project 'bakery' has used 50% of its 500 GPU-hours")
        note(uow, api.clock, grid, "expiring-7d", "The allocation of project 'grid' ends in 7 days")
        note(uow, api.clock, bakery, "threshold-80", "Project 'bakery' has used 80% of its 500 GPU-hours")
        uow.commit()
    return ids


def events(api: Api, who: str, **params: object) -> list[tuple[int, str]]:
    body = api.ok("GET", "/notifications/outbox", who, params=params)
    return [(n["project_id"], n["event"]) for n in body["items"]]


def test_members_see_their_projects_notifications_newest_first(api: Api, raised: dict[str, int]) -> None:
    bakery, grid = raised["bakery"], raised["gridwise"]
    assert events(api, "anna") == events(api, "lars") == [(bakery, "threshold-80"), (bakery, "threshold-50")]
    assert events(api, "daan") == [(grid, "expiring-7d")]
    assert events(api, "operator") == [(bakery, "threshold-80"), (grid, "expiring-7d"), (bakery, "threshold-50")]
    assert events(api, "operator", project_id=grid) == [(grid, "expiring-7d")]
    body = api.ok("GET", "/notifications/outbox", "anna", params={"project_id": bakery})
    first = body["items"][0]
    assert set(first) == {
        "id",
        "project_id",
        "allocation_id",
        "event",
        "message",
        "created_at",
        "webhook_state",
        "email_state",
        "attempts",
        "last_error",
        "delivered_at",
    }
    assert (first["webhook_state"], first["email_state"], first["attempts"], first["delivered_at"]) == (
        "pending",
        "pending",
        0,
        None,
    )


def test_other_tenants_see_nothing(api: Api, raised: dict[str, int]) -> None:
    assert api.ok("GET", "/notifications/outbox", "claire") == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert events(api, "schulz") == []  # a reviewer of another proposal
    for who, project in (("claire", raised["bakery"]), ("daan", raised["bakery"]), ("anna", raised["gridwise"])):
        assert_problem(api.get("/notifications/outbox", who, params={"project_id": project}), 404, detail="not found")
    assert_problem(api.get("/notifications/outbox", "anna", params={"project_id": 999_999}), 404)


def test_paging(api: Api, raised: dict[str, int]) -> None:
    page = api.ok("GET", "/notifications/outbox", "operator", params={"limit": 2, "offset": 1})
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 1, 2)
    assert [n["event"] for n in page["items"]] == ["expiring-7d", "threshold-50"]


def test_bad_requests(api: Api, raised: dict[str, int]) -> None:
    assert_problem(api.get("/notifications/outbox"), 401)
    assert_problem(api.get("/notifications/outbox", "anna", params={"limit": 0}), 422, "limit")
    assert_problem(api.get("/notifications/outbox", "anna", params={"project_id": "x"}), 422, "project_id")
    assert_problem(api.get("/notifications/outbox", "anna", params={"project_id": 2**40}), 422, "project_id")
