"""Drafting, editing and submitting proposals: ethics, eligibility, auto-approval, deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from aifactory.domain.access import PageRequest
from aifactory.domain.enums import AccessMode, DueStatus, OrgKind, ProposalStatus, RiskCategory
from aifactory.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from aifactory.domain.proposals import Action
from aifactory.services import calls, proposals
from aifactory.services.context import Actor


def test_playground_flow_draft_edit_submit_is_accepted_with_project_and_allocation(world, bakery, institute):
    pid = world.draft(bakery, title="Draft title", partner_organization_ids=[institute.user.organization_id])
    assert world.proposal(pid).status is ProposalStatus.DRAFT
    world.run(proposals.edit, bakery, pid, {"title": "Bake less waste", "requested_gpu_hours": 800})
    p = world.submit(bakery, pid)
    assert p.status is ProposalStatus.ACCEPTED
    stored = world.proposal(pid)
    assert (stored.status, stored.awarded_gpu_hours, stored.title) == (ProposalStatus.ACCEPTED, 800, "Bake less waste")
    assert stored.submitted_at == world.clock.now() and stored.decided_at == world.clock.now()
    assert stored.decided_by is None and "auto-approved" in stored.decision_reason
    with world.uow_factory(write=False) as uow:
        project = uow.projects.by_proposal(pid)
        assert project is not None
        assert project.organization_ids == sorted([bakery.user.organization_id, institute.user.organization_id])
        assert [(m.user_id, m.role.value) for m in project.members] == [(bakery.id, "pi")]
        assert project.slurm_account == f"p{project.id:05d}_bake_less_waste"
        [alloc] = project.allocations
    assert (alloc.resource_id, alloc.gpu_hours) == (world.booster, 800)
    # start + 3 months - 1 day
    assert (alloc.start_date, alloc.end_date) == (date(2026, 3, 2), date(2026, 6, 1))
    assert world.actions()[-6:] == [
        "proposal.created",
        "proposal.edited",
        "proposal.submitted",
        "proposal.auto_accepted",
        "project.created",
        "allocation.created",
    ]


def test_over_the_threshold_the_playground_waits_for_an_operator(world, bakery):
    pid = world.draft(bakery, requested_gpu_hours=1_001)
    assert world.submit(bakery, pid).status is ProposalStatus.SUBMITTED
    assert world.count("projects") == 0 and world.count("allocations") == 0


@pytest.mark.parametrize(
    "ethics", [{"risk_category": RiskCategory.HIGH}, {"personal_data": True}, {"health_data": True}, {"dual_use": True}]
)
def test_flagged_proposals_are_not_auto_approved(world, bakery, ethics):
    pid = world.draft(bakery, requested_gpu_hours=10, **ethics)
    p = world.submit(bakery, pid)
    assert p.status is ProposalStatus.SUBMITTED
    assert p.ethics_flags
    assert world.count("projects") == 0
    assert "proposal.auto_accepted" not in world.actions("proposal", pid)


def test_a_prohibited_practice_is_refused_and_nothing_is_written(world, bakery):
    pid = world.draft(bakery, risk_category=RiskCategory.PROHIBITED)
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput) as exc:
        world.submit(bakery, pid)
    assert exc.value.errors[0].field == "risk_category"
    assert "prohibited" in str(exc.value)
    p = world.proposal(pid)
    assert (p.status, p.submitted_at, p.decision_deadline) == (ProposalStatus.DRAFT, None, None)
    assert world.snapshot_counts() == before
    assert world.actions("proposal", pid) == ["proposal.created"]


@pytest.mark.parametrize(
    ("setup", "draft", "fields"),
    [
        ({"eligible_kinds": ["academia"]}, {}, {"organization.kind"}),
        ({"eligible_countries": ["FR"]}, {}, {"organization.country"}),
        ({"max_gpu_hours": 400}, {}, {"requested_gpu_hours"}),
        ({"durations_months": [6]}, {}, {"duration_months"}),
        ({"resource_ids": ["booster"]}, {"resource_id": "develop"}, {"resource_id"}),
        ({"closed": True}, {}, {"call"}),
        ({"closes_on": date(2026, 2, 28)}, {}, {"call"}),
        (
            {"eligible_kinds": ["academia"], "eligible_countries": ["FR"], "closed": True},
            {"duration_months": 12},
            {"organization.kind", "organization.country", "call", "duration_months"},
        ),
    ],
)
def test_eligibility_failures_leave_the_proposal_a_draft(world, bakery, setup, draft, fields):
    resources = {"booster": world.booster, "develop": world.develop}
    if "resource_ids" in setup:  # resources by name: their ids exist only once the world is built
        setup = {"resource_ids": [resources[r] for r in setup["resource_ids"]]}
        draft = {"resource_id": resources[draft["resource_id"]]}
    pid = world.draft(bakery, "fast_lane", **draft)
    world.run(calls.update_call, world.operator, world.calls["fast_lane"], setup)
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput) as exc:
        world.submit(bakery, pid)
    assert {e.field for e in exc.value.errors} == fields
    assert world.proposal(pid).status is ProposalStatus.DRAFT
    assert world.snapshot_counts() == before


def test_a_call_that_is_not_yet_open_refuses_submissions(world, bakery):
    call_id = world.call(AccessMode.FAST_LANE, max_gpu_hours=1_000)
    pid = world.draft(bakery, call_id=call_id)
    world.run(calls.update_call, world.operator, call_id, {"opens_on": date(2026, 4, 1)})
    with pytest.raises(InvalidInput, match="not open"):
        world.submit(bakery, pid)


@pytest.mark.parametrize(
    "spec",
    [{"opens_on": date(2026, 4, 1)}, {"closes_on": date(2026, 2, 28)}, {"closed": True}],
    ids=["not-yet-open", "past-its-end", "closed"],
)
def test_drafts_are_refused_on_calls_that_are_not_open_and_nothing_is_written(world, bakery, spec):
    call_id = world.call(AccessMode.FAST_LANE, max_gpu_hours=1_000)
    world.run(calls.update_call, world.operator, call_id, spec)
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput, match="not open") as exc:
        world.draft(bakery, call_id=call_id)
    assert [e.field for e in exc.value.errors] == ["call_id"]
    assert world.snapshot_counts() == before


def test_a_draft_takes_the_calls_defaults_for_what_it_does_not_say(world, bakery):
    call_id = world.call(
        AccessMode.LARGE_SCALE,
        min_gpu_hours=60_000,
        max_gpu_hours=90_000,
        durations_months=[6, 12],
        resource_ids=[world.develop, world.booster],
    )
    pid = world.run(proposals.create_draft, bakery, call_id=call_id, title="Defaults").id
    p = world.proposal(pid)
    assert (p.resource_id, p.duration_months, p.requested_gpu_hours) == (world.develop, 6, 60_000)


def test_the_resource_must_be_one_the_call_offers_when_drafted_and_when_edited(world, bakery):
    call_id = world.call(AccessMode.FAST_LANE, max_gpu_hours=1_000, resource_ids=[world.booster])
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput, match="not offered") as exc:
        world.draft(bakery, call_id=call_id, resource_id=world.develop)
    assert [e.field for e in exc.value.errors] == ["resource_id"]
    assert world.snapshot_counts() == before
    pid = world.draft(bakery, call_id=call_id, resource_id=world.booster)
    with pytest.raises(InvalidInput, match="not offered"):
        world.run(proposals.edit, bakery, pid, {"resource_id": world.develop, "title": "Moved"})
    p = world.proposal(pid)
    assert (p.resource_id, p.title) == (world.booster, "Bake less waste")
    # a resource the call stopped offering is refused at submission, not on edits of other fields
    world.run(calls.update_call, world.operator, call_id, {"resource_ids": [world.develop]})
    assert world.run(proposals.edit, bakery, pid, {"title": "Still mine"}).title == "Still mine"
    with pytest.raises(InvalidInput, match="not offered"):
        world.submit(bakery, pid)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"requested_gpu_hours": 0}, "requested_gpu_hours"),
        ({"requested_gpu_hours": -5}, "requested_gpu_hours"),
        ({"requested_gpu_hours": 10**12}, "requested_gpu_hours"),
        ({"duration_months": 0}, "duration_months"),
        ({"resource_id": 999}, "resource_id"),
        ({"partner_organization_ids": [999]}, "partner_organization_ids"),
        ({"partner_organization_ids": "lead"}, "partner_organization_ids"),
        ({"team": [{"name": " ", "email": "x@y.example"}]}, "team.0.name"),
        ({"team": [{"name": "Lars", "email": "nope"}]}, "email"),
        ({"status": "accepted"}, "status"),
    ],
)
def test_draft_fields_are_validated_and_nothing_is_written(world, bakery, fields, field):
    if fields.get("partner_organization_ids") == "lead":  # the lead's id exists only once registered
        fields = {"partner_organization_ids": [bakery.user.organization_id]}
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput) as exc:
        world.draft(bakery, **fields)
    assert exc.value.errors[0].field == field
    assert world.snapshot_counts() == before


def test_who_may_draft(world):
    with pytest.raises(Forbidden):
        world.draft(world.reviewer())  # no organization
    with pytest.raises(NotFound):
        world.draft(world.org("X"), call_id=999)


def test_editing_rules(world, bakery, outsider):
    pid = world.draft(bakery)
    colleague = world.user("ben@backhaus.example", bakery.user.organization_id)
    with pytest.raises(Forbidden):
        world.run(proposals.edit, colleague, pid, {"title": "Mine now"})
    with pytest.raises(NotFound):
        world.run(proposals.edit, outsider, pid, {"title": "Mine now"})
    # the organization's admin may edit a colleague's draft
    own = world.draft(colleague)
    assert world.run(proposals.edit, bakery, own, {"title": "Edited by admin"}).title == "Edited by admin"
    world.submit(bakery, pid)
    with pytest.raises(Conflict, match="accepted"):
        world.run(proposals.edit, bakery, pid, {"title": "Too late"})


def test_what_the_applicants_pages_offer_follows_the_applicant_and_the_state(world, bakery, institute):
    pid = world.draft(bakery, "fast_lane", partner_organization_ids=[institute.user.organization_id])
    colleague = world.user("ben@backhaus.example", bakery.user.organization_id)

    def offers(actor: Actor) -> list[str]:
        p = world.proposal(pid)
        return [a for a in ("edit", "submit", "withdraw") if proposals.applicant_may(actor, p, Action(a))]

    assert offers(bakery) == ["edit", "submit", "withdraw"]
    assert offers(institute) == offers(colleague) == []  # a partner, a colleague who is not its author
    world.submit(bakery, pid)
    assert offers(bakery) == ["withdraw"]
    world.run(proposals.withdraw, bakery, pid)
    assert offers(bakery) == []


@pytest.mark.parametrize("submit_first", [False, True])
def test_withdraw(world, bakery, submit_first):
    pid = world.draft(bakery, "fast_lane")
    if submit_first:
        world.submit(bakery, pid)
    assert world.run(proposals.withdraw, bakery, pid).status is ProposalStatus.WITHDRAWN
    with pytest.raises(Conflict, match="final"):
        world.run(proposals.withdraw, bakery, pid)
    with pytest.raises(Conflict):
        world.submit(bakery, pid)


@pytest.mark.parametrize(
    ("mode", "gpu_hours", "deadline"),
    [
        ("playground", 1_500, date(2026, 3, 4)),  # 2 working days
        ("fast_lane", 5_000, date(2026, 3, 6)),  # 4 working days
        ("large_scale", 100_000, date(2026, 3, 27)),  # 10 working days from the cut-off of 15 March
    ],
)
def test_decision_deadlines(world, bakery, mode, gpu_hours, deadline):
    kw = {"duration_months": 6} if mode == "large_scale" else {}
    pid = world.draft(bakery, mode, requested_gpu_hours=gpu_hours, **kw)
    assert world.submit(bakery, pid).decision_deadline == deadline


def test_deadlines_skip_easter(world, bakery):
    world.clock.at = datetime(2026, 4, 2, 15, 0, tzinfo=UTC)  # Maundy Thursday
    pid = world.draft(bakery, requested_gpu_hours=1_500)
    assert world.submit(bakery, pid).decision_deadline == date(2026, 4, 8)


def test_due_status_follows_the_clock(world, bakery):
    pid = world.draft(bakery, "fast_lane")
    world.submit(bakery, pid)
    due = lambda: world.read(lambda uow: proposals.due(uow, world.clock, uow.proposals.get(pid)))  # noqa: E731
    assert due() is DueStatus.ON_TRACK
    world.clock.advance(days=2)
    assert due() is DueStatus.DUE_SOON
    world.clock.advance(days=3)  # Saturday after the Friday deadline
    assert due() is DueStatus.OVERDUE


def test_operators_see_overdue_first_and_decided_last(world, bakery, institute, outsider):
    world.clock.at = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    overdue = world.draft(bakery, "fast_lane")
    world.submit(bakery, overdue)  # deadline 6 Feb
    decided = world.draft(institute, requested_gpu_hours=10)
    world.submit(institute, decided)  # auto-accepted, deadline 4 Feb
    world.clock.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    on_track = world.draft(outsider, "large_scale", requested_gpu_hours=60_000, duration_months=6)
    world.submit(outsider, on_track)  # deadline 27 Mar
    soon = world.draft(bakery, requested_gpu_hours=1_500)
    world.submit(bakery, soon)  # deadline 4 Mar
    draft = world.draft(bakery)

    page = world.read(proposals.list_visible, world.operator, PageRequest())
    assert [p.id for p in page.items] == [overdue, soon, on_track, decided, draft]
    dues = world.read(lambda uow: [proposals.due(uow, world.clock, p) for p in page.items])
    assert dues[:3] == [DueStatus.OVERDUE, DueStatus.DUE_SOON, DueStatus.ON_TRACK]
    # applicants get their own, newest first
    mine = world.read(proposals.list_visible, bakery, PageRequest())
    assert [p.id for p in mine.items] == [draft, soon, overdue]


def test_visibility_follows_the_organizations_taking_part(world, bakery, institute, outsider):
    pid = world.draft(bakery, partner_organization_ids=[institute.user.organization_id])
    for viewer in (bakery, institute, world.operator):
        assert world.read(proposals.get, viewer, pid).id == pid
        assert [p.id for p in world.read(proposals.list_visible, viewer, PageRequest()).items] == [pid]
    with pytest.raises(NotFound):
        world.read(proposals.get, outsider, pid)
    assert world.read(proposals.list_visible, outsider, PageRequest()).total == 0
    # a partner sees the proposal but cannot change it
    with pytest.raises(Forbidden):
        world.run(proposals.edit, institute, pid, {"title": "Ours"})


def test_a_restricted_call_admits_only_eligible_kinds(world):
    public = world.org("Stadt Jülich", OrgKind.PUBLIC_SECTOR, "DE")
    world.run(calls.update_call, world.operator, world.calls["playground"], {"eligible_kinds": ["sme"]})
    pid = world.draft(public)
    with pytest.raises(InvalidInput):
        world.submit(public, pid)
    # the same proposal from an eligible organization is accepted
    sme = world.org("Bäckerei Schmitz", OrgKind.SME, "DE")
    assert world.submit(sme, world.draft(sme)).status is ProposalStatus.ACCEPTED
