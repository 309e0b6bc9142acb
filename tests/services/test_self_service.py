"""Self-service limits of auto-approving calls, through the services on both databases: per organization and
call, a cap on open or accepted proposals and on auto-approved GPU-hours in a rolling period. Over a cap a
proposal is not refused: it waits for an operator with the reason; parallel submissions at the cap never both
pass it (the organization's row is locked while counting)."""

from __future__ import annotations

import threading

import pytest

from aifactory.domain.calls import DEFAULT_MAX_GPU_HOURS, DEFAULT_MAX_PROPOSALS, DEFAULT_PERIOD_MONTHS
from aifactory.domain.enums import AccessMode, ProposalStatus
from aifactory.domain.errors import InvalidInput
from aifactory.services import calls, decisions

S = ProposalStatus


def limits(world, call_id: int, **caps: int | None) -> None:
    world.run(calls.update_call, world.operator, call_id, {f"self_service_{k}": v for k, v in caps.items()})


def submission(world, who, hours: int = 100, **kw):
    return world.submit(who, world.draft(who, requested_gpu_hours=hours, duration_months=1, **kw))


def submitted(world, who, hours: int = 100, **kw) -> tuple[S, str]:
    p = submission(world, who, hours, **kw)
    return p.status, p.held_reason


def test_a_new_call_has_the_default_limits(world) -> None:
    call = world.read(calls.get_call, world.calls["playground"])
    assert (
        (call.self_service_max_proposals, call.self_service_max_gpu_hours, call.self_service_period_months)
        == (
            DEFAULT_MAX_PROPOSALS,
            DEFAULT_MAX_GPU_HOURS,
            DEFAULT_PERIOD_MONTHS,
        )
        == (2, 2_000, 12)
    )


def test_over_the_proposal_cap_a_proposal_waits_for_an_operator(world, bakery, institute) -> None:
    assert [submitted(world, bakery)[0] for _ in range(2)] == [S.ACCEPTED, S.ACCEPTED]
    p = submission(world, bakery)
    assert p.status is S.SUBMITTED
    assert p.held_reason == (
        "over the self-service limit: the organization already has 2 open or accepted proposals in this call (limit 2)"
    )
    assert submitted(world, institute)[0] is S.ACCEPTED  # another organization has its own places
    held = p.id
    assert world.actions("proposal", held) == ["proposal.created", "proposal.submitted"]
    world.run(decisions.decide, world.operator, held, accept_it=True, reason="Fine by us.")
    assert world.proposal(held).status is S.ACCEPTED and world.proposal(held).held_reason  # kept: why it waited
    another = world.call(AccessMode.PLAYGROUND, max_gpu_hours=2_000, auto_approve_gpu_hours=1_000, required_reviews=0)
    assert submitted(world, bakery, call_id=another)[0] is S.ACCEPTED  # per call


def test_open_proposals_count_and_ended_allocations_do_not(world, bakery) -> None:
    limits(world, world.calls["playground"], max_proposals=1, max_gpu_hours=None)
    flagged = world.draft(bakery, personal_data=True, duration_months=1)  # never auto-approved: it waits, counts
    assert world.submit(bakery, flagged).held_reason == ""
    first = submission(world, bakery)
    assert first.status is S.SUBMITTED and first.held_reason
    world.run(decisions.decide, world.operator, flagged, accept_it=True, reason="ok")
    world.run(decisions.decide, world.operator, first.id, accept_it=False, reason="no")
    assert submitted(world, bakery)[0] is S.SUBMITTED  # the flagged one's allocation runs: it still counts
    world.clock.advance(days=40)  # a month later its allocation has ended
    assert submitted(world, bakery)[0] is S.SUBMITTED  # the one before is still open
    world.clock.advance(days=1)


def test_the_gpu_hours_cap_counts_auto_approvals_in_a_rolling_period(world, bakery) -> None:
    limits(world, world.calls["playground"], max_proposals=None, max_gpu_hours=1_000, period_months=12)
    assert submitted(world, bakery, 600)[0] is S.ACCEPTED
    p = submission(world, bakery, 500)
    assert p.status is S.SUBMITTED
    assert p.held_reason == (
        "over the self-service limit: 600 GPU-hours auto-approved to the organization in this call in the last "
        "12 months, plus 500 requested, exceeds 1,000"
    )
    assert submitted(world, bakery, 400)[0] is S.ACCEPTED  # 1,000: at the cap, not over it
    world.run(decisions.decide, world.operator, p.id, accept_it=True, reason="ok")  # an operator's: not counted
    assert submitted(world, bakery, 1)[0] is S.SUBMITTED
    world.clock.advance(days=366)
    assert submitted(world, bakery, 1_000)[0] is S.ACCEPTED  # the earlier ones are out of the period


def test_no_cap_means_no_cap(world, bakery) -> None:
    limits(world, world.calls["playground"], max_proposals=None, max_gpu_hours=None)
    assert {submitted(world, bakery, 1_000)[0] for _ in range(4)} == {S.ACCEPTED}


def test_zero_sends_every_proposal_to_an_operator(world, bakery) -> None:
    limits(world, world.calls["playground"], max_proposals=0)
    assert submitted(world, bakery)[0] is S.SUBMITTED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"self_service_max_proposals": -1}, "self_service_max_proposals"),
        ({"self_service_max_proposals": 1001}, "self_service_max_proposals"),
        ({"self_service_max_gpu_hours": -5}, "self_service_max_gpu_hours"),
        ({"self_service_period_months": 0}, "self_service_period_months"),
        ({"self_service_period_months": 61}, "self_service_period_months"),
    ],
)
def test_bad_limits_are_refused_and_nothing_changes(world, change, field) -> None:
    call_id = world.calls["playground"]
    with pytest.raises(InvalidInput) as caught:
        world.run(calls.update_call, world.operator, call_id, change)
    assert field in {e.field for e in caught.value.errors}
    call = world.read(calls.get_call, call_id)
    assert (call.self_service_max_proposals, call.self_service_period_months) == (2, 12)


def test_parallel_submissions_at_the_cap_never_both_pass(world, bakery) -> None:
    """Two submissions of one organization race for the last place: one is auto-approved, the other waits. On
    PostgreSQL both run at once and the second counts under the organization's row lock after the first
    committed; on SQLite writers take turns anyway."""
    limits(world, world.calls["playground"], max_proposals=1, max_gpu_hours=None)
    drafts = [world.draft(bakery, requested_gpu_hours=100) for _ in range(2)]
    start = threading.Barrier(2)
    results: dict[int, S] = {}
    errors: list[BaseException] = []

    def submit(pid: int) -> None:
        try:
            start.wait(timeout=10)
            results[pid] = world.submit(bakery, pid).status
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(pid,)) for pid in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(results.values()) == [S.ACCEPTED, S.SUBMITTED]
    assert world.count("projects") == 1
