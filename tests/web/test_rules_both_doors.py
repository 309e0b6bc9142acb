"""Each proposal rule asked through both doors, the JSON API and the portal's forms, on the demo: the same
refusal (the same status, nothing written), because both doors ask the same services and domain rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pytest

from aifactory.services import calls, identity
from aifactory.services.context import Actor
from tests.support.api import Api
from tests.support.demo import PEOPLE
from tests.support.portal import Portal


class Door(Protocol):
    """One way in; each method returns the HTTP status of the answer."""

    def create_draft(self, who: str, call_id: int) -> int: ...
    def set_resource(self, who: str, proposal_id: int, resource_id: int) -> int: ...
    def withdraw(self, who: str, proposal_id: int) -> int: ...
    def accept(self, proposal_id: int) -> int: ...
    def assign(self, proposal_id: int, reviewer_id: int) -> int: ...
    def candidates(self, proposal_id: int, among: list[int]) -> set[int]: ...


class ApiDoor:
    def __init__(self, api: Api):
        self.api = api

    def create_draft(self, who: str, call_id: int) -> int:
        resource = self.api.info.resource_ids["booster"]
        body = {"call_id": call_id, "title": "x", "requested_gpu_hours": 100, "resource_id": resource}
        return self.api.post("/proposals", who, json={**body, "duration_months": 1}).status_code

    def set_resource(self, who: str, proposal_id: int, resource_id: int) -> int:
        return self.api.patch(f"/proposals/{proposal_id}", who, json={"resource_id": resource_id}).status_code

    def withdraw(self, who: str, proposal_id: int) -> int:
        return self.api.post(f"/proposals/{proposal_id}/withdraw", who).status_code

    def accept(self, proposal_id: int) -> int:
        return self.api.post(f"/proposals/{proposal_id}/decision", "operator", json={"decision": "accept"}).status_code

    def assign(self, proposal_id: int, reviewer_id: int) -> int:
        body = {"reviewer_ids": [reviewer_id]}
        return self.api.post(f"/proposals/{proposal_id}/reviewers", "operator", json=body).status_code

    def candidates(self, proposal_id: int, among: list[int]) -> set[int]:
        listed = self.api.ok("GET", f"/proposals/{proposal_id}/reviewer-candidates", "operator")
        return {u["id"] for u in listed} & set(among)


class PortalDoor:
    def __init__(self, portal: Portal):
        self.portal = portal
        self.browsers = {who: portal.browser(who) for who in ("eva", "daan", "operator")}

    def create_draft(self, who: str, call_id: int) -> int:
        return self.browsers[who].post("/proposals/new", {"call": str(call_id), "title": "x"}).status_code

    def set_resource(self, who: str, proposal_id: int, resource_id: int) -> int:
        form = {"resource_id": str(resource_id), "requested_gpu_hours": "100", "duration_months": "1"}
        return self.browsers[who].post(f"/proposals/{proposal_id}/edit?step=3", form).status_code

    def withdraw(self, who: str, proposal_id: int) -> int:
        return self.browsers[who].post(f"/proposals/{proposal_id}/withdraw").status_code

    def accept(self, proposal_id: int) -> int:
        return self.browsers["operator"].post(f"/operator/proposals/{proposal_id}/accept", {}).status_code

    def assign(self, proposal_id: int, reviewer_id: int) -> int:
        form = {"reviewer_ids": str(reviewer_id)}
        return self.browsers["operator"].post(f"/operator/proposals/{proposal_id}/reviewers", form).status_code

    def candidates(self, proposal_id: int, among: list[int]) -> set[int]:
        page = self.browsers["operator"].get(f"/operator/proposals/{proposal_id}").text
        return {i for i in among if f'name="reviewer_ids" value="{i}"' in page}


@pytest.fixture(params=["api", "portal"])
def door(request: pytest.FixtureRequest, portal: Portal) -> Door:
    return ApiDoor(portal.api) if request.param == "api" else PortalDoor(portal)


def operator_runs(api: Api, fn: Callable[..., object], *args: object, **kw: object) -> object:
    """A service use case run by the demo's operator, as the test's setup."""
    with api.uow_factory() as uow:
        op = Actor(uow.users.by_email(PEOPLE["operator"]))
        return fn(uow, api.clock, op, *args, **kw)


def refused(api: Api, ask: Callable[[], int]) -> int:
    """The status of a refused ask, checking that it wrote nothing."""
    before = api.counts()
    status = ask()
    assert api.counts() == before
    return status


def test_a_draft_on_a_closed_call_is_refused(portal: Portal, door: Door) -> None:
    api = portal.api
    call_id = api.info.call_ids["fast_lane"]
    operator_runs(api, calls.update_call, call_id, {"closed": True})
    assert refused(api, lambda: door.create_draft("eva", call_id)) == 422


def test_a_resource_the_call_does_not_offer_is_refused(portal: Portal, door: Door) -> None:
    api, pid = portal.api, portal.api.pid("juelich")
    booster, develop = api.info.resource_ids["booster"], api.info.resource_ids["develop"]
    operator_runs(api, calls.update_call, api.info.call_ids["playground"], {"resource_ids": [booster]})
    assert refused(api, lambda: door.set_resource("eva", pid, develop)) == 422
    with api.uow_factory(write=False) as uow:
        assert uow.proposals.get(pid).resource_id == develop  # as it was
    assert door.set_resource("eva", pid, booster) in (200, 303)  # the one offered is taken


def test_withdrawing_an_accepted_proposal_is_refused(portal: Portal, door: Door) -> None:
    api, pid = portal.api, portal.api.pid("gridwise")
    assert "withdraw" not in api.ok("GET", f"/proposals/{pid}", "daan")["allowed_actions"]
    assert "/withdraw" not in portal.browser("daan").get(f"/proposals/{pid}").text  # not offered either
    assert refused(api, lambda: door.withdraw("daan", pid)) == 409


def test_accepting_before_the_required_reviews_is_refused(portal: Portal, door: Door) -> None:
    api, pid = portal.api, portal.api.pid("autonomia")  # large scale: 2 reviews required, none in
    assert refused(api, lambda: door.accept(pid)) == 409


def test_assigning_a_reviewer_with_a_conflict_of_interest_is_refused(portal: Portal, door: Door) -> None:
    api, pid = portal.api, portal.api.pid("medvision")
    with api.uow_factory(write=False) as uow:
        org = uow.proposals.get(pid).lead_organization_id
    insider, _ = operator_runs(
        api, identity.create_user, email="rev@medvision.example", name="Insider", organization_id=org, is_reviewer=True
    )
    among = [insider.id, api.user_id("schulz"), api.user_id("novak")]
    assert door.candidates(pid, among) == {api.user_id("novak")}  # neither the insider nor the one assigned
    assert refused(api, lambda: door.assign(pid, insider.id)) == 403


def test_the_api_tells_what_a_state_allows_and_who_may_review(portal: Portal) -> None:
    api = portal.api
    expected = {
        "juelich": ["edit", "submit", "withdraw"],
        "autonomia": ["withdraw", "assign", "decide"],
        "medvision": ["withdraw", "assign", "review", "decide"],
        "gridwise": [],
    }
    for key, actions in expected.items():
        assert api.ok("GET", f"/proposals/{api.pid(key)}", "operator")["allowed_actions"] == actions, key
    pid = api.pid("medvision")
    assert [u["id"] for u in api.ok("GET", f"/proposals/{pid}/reviewer-candidates", "operator")] == [
        api.user_id("novak")
    ]
    assert api.get(f"/proposals/{pid}/reviewer-candidates", "claire").status_code == 403
    assert api.ok("GET", f"/proposals/{api.pid('gridwise')}/reviewer-candidates", "operator") == []
