"""The audit log: every state change is an event (who, what, when, before -> after); append-only in the DB."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aifactory.domain.access import PageRequest
from aifactory.domain.errors import Forbidden, InvalidInput
from aifactory.services import audit, decisions, proposals


def events(world, **filters):
    return world.read(audit.list_events, world.operator, PageRequest(limit=200), **filters).items


def test_each_state_change_records_actor_action_and_before_after(world, bakery, outsider):
    pid = world.draft(bakery, "fast_lane")
    world.submit(bakery, pid)
    world.clock.advance(hours=1)
    rev = world.reviewer()
    world.run(decisions.assign_reviewers, world.operator, pid, [rev.id])
    scores = {"excellence": 3, "impact": 3, "feasibility": 3}
    world.run(decisions.submit_review, rev, pid, scores=scores, declare_no_conflict=True)
    world.clock.advance(hours=1)
    world.run(decisions.decide, world.operator, pid, accept_it=False, reason="Not feasible yet")

    changes = [
        (e.action, e.actor_id, (e.before or {}).get("status"), (e.after or {}).get("status"), e.occurred_at)
        for e in reversed(events(world, entity_type="proposal", entity_id=pid))
    ]
    t0 = world.clock.now() - timedelta(hours=2)
    assert changes == [
        ("proposal.created", bakery.id, None, "draft", t0),
        ("proposal.submitted", bakery.id, "draft", "submitted", t0),
        ("proposal.reviewers_assigned", world.operator.id, "submitted", "under_review", t0 + timedelta(hours=1)),
        ("proposal.rejected", world.operator.id, "under_review", "rejected", t0 + timedelta(hours=2)),
    ]
    [rejected] = events(world, action="proposal.rejected")
    assert rejected.after["decision_reason"] == "Not feasible yet"
    assert set(rejected.before) == set(rejected.after)  # only what changed, on both sides
    assert "title" not in rejected.after
    [reviewed] = events(world, action="review.submitted")
    assert (reviewed.actor_id, reviewed.after["score_impact"]) == (rev.id, 3)


def test_filters(world, bakery):
    pid = world.draft(bakery)
    world.clock.advance(days=1)
    world.submit(bakery, pid)
    assert {e.action for e in events(world, actor_id=bakery.id)} >= {"proposal.created", "proposal.submitted"}
    assert all(e.actor_id == bakery.id for e in events(world, actor_id=bakery.id))
    later = events(world, since=world.clock.now())
    assert [e.action for e in reversed(later)] == [
        "proposal.submitted",
        "proposal.auto_accepted",
        "project.created",
        "allocation.created",
    ]
    assert all(e.actor_id is None for e in later[:3])  # the automatic acceptance has no human actor
    earlier = events(world, until=world.clock.now())
    assert "proposal.submitted" not in {e.action for e in earlier}
    page = world.read(audit.list_events, world.operator, PageRequest(limit=2, offset=1))
    assert len(page.items) == 2 and page.total == len(events(world))


def test_only_operators_read_the_audit_log(world, bakery):
    with pytest.raises(Forbidden):
        world.read(audit.list_events, bakery, PageRequest())


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"])
def test_audit_rows_cannot_be_changed_or_deleted(world, uow_factory, statement):
    before = len(events(world))
    assert before > 0
    with uow_factory() as uow, pytest.raises(DBAPIError, match="append-only"):
        uow.session.execute(text(statement))
    assert len(events(world)) == before
    assert "forged" not in {e.action for e in events(world)}


def test_failed_use_cases_leave_no_event(world, bakery):
    pid = world.draft(bakery)
    before = len(events(world))
    with pytest.raises(InvalidInput):
        world.run(proposals.edit, bakery, pid, {"requested_gpu_hours": -1})
    assert len(events(world)) == before
