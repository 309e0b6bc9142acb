"""Fast lane and large scale: reviewer assignment, reviews, and the operator's decision."""

from __future__ import annotations

from datetime import date

import pytest

from aifactory.domain.enums import ProjectRole, ProposalStatus
from aifactory.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from aifactory.services import decisions, identity, proposals

SCORES = {"excellence": 4, "impact": 5, "feasibility": 3}


@pytest.fixture
def submitted(world, bakery, institute):
    """A fast-lane proposal of the bakery with the institute as partner, submitted."""
    pid = world.draft(
        bakery,
        "fast_lane",
        requested_gpu_hours=8_000,
        duration_months=2,
        partner_organization_ids=[institute.user.organization_id],
    )
    world.submit(bakery, pid)
    return pid


@pytest.fixture
def reviewer(world):
    return world.reviewer("rev@uni-bonn.example")


def assign(world, pid, *reviewers):
    return world.run(decisions.assign_reviewers, world.operator, pid, [r.id for r in reviewers])


def review(world, reviewer, pid, scores=SCORES, **kw):
    kw.setdefault("declare_no_conflict", True)  # the declaration of interests, made with the review
    return world.run(decisions.submit_review, reviewer, pid, scores=scores, **kw)


def decide(world, pid, accept=True, **kw):
    return world.run(decisions.decide, world.operator, pid, accept_it=accept, **kw)


def test_fast_lane_flow(world, bakery, submitted, reviewer):
    [a] = assign(world, submitted, reviewer)
    assert (a.reviewer_id, a.assigned_by) == (reviewer.id, world.operator.id)
    assert world.proposal(submitted).status is ProposalStatus.UNDER_REVIEW
    r = review(world, reviewer, submitted, comments={"impact": "Helps the energy transition."}, summary="Sound.")
    assert (r.score_excellence, r.score_impact, r.score_feasibility, r.comment_impact) == (
        4,
        5,
        3,
        "Helps the energy transition.",
    )
    p = decide(world, submitted, awarded_gpu_hours=6_000, reason="Reduced to the two-month plan.")
    assert (p.status, p.awarded_gpu_hours, p.decided_by) == (ProposalStatus.ACCEPTED, 6_000, world.operator.id)
    with world.uow_factory(write=False) as uow:
        project = uow.projects.by_proposal(submitted)
        [alloc] = project.allocations
    assert (alloc.gpu_hours, alloc.start_date, alloc.end_date) == (6_000, date(2026, 3, 2), date(2026, 5, 1))
    assert project.role_of(bakery.id) is ProjectRole.PI
    assert world.actions("proposal", submitted) == [
        "proposal.created",
        "proposal.submitted",
        "proposal.reviewers_assigned",
        "proposal.accepted",
    ]


def test_accept_with_a_start_date_and_the_requested_hours_by_default(world, submitted, reviewer):
    assign(world, submitted, reviewer)
    review(world, reviewer, submitted)
    p = decide(world, submitted, start_date=date(2026, 1, 31))
    assert p.awarded_gpu_hours == 8_000
    with world.uow_factory(write=False) as uow:
        [alloc] = uow.projects.by_proposal(submitted).allocations
    assert (alloc.start_date, alloc.end_date) == (date(2026, 1, 31), date(2026, 3, 30))


@pytest.mark.parametrize("who", ["lead", "partner"])
def test_no_reviewer_from_the_applicant_or_partner_organization(world, bakery, institute, submitted, who):
    org = (bakery if who == "lead" else institute).user.organization_id
    insider = world.reviewer(f"rev@{who}.example", organization_id=org)
    before = world.snapshot_counts()
    with pytest.raises(Forbidden, match="conflict of interest"):
        assign(world, submitted, insider)
    assert world.proposal(submitted).status is ProposalStatus.SUBMITTED
    assert world.snapshot_counts() == before


def test_a_reviewer_who_later_joins_the_applicant_side_cannot_review(world, bakery, submitted, outsider):
    rev = world.reviewer("rev@medvision.example", organization_id=outsider.user.organization_id)
    assign(world, submitted, rev)
    # the reviewer's organization becomes a partner after the assignment: still no review
    with world.uow_factory() as uow:
        p = uow.proposals.get(submitted)
        p.set_partners([*p.partner_organization_ids, outsider.user.organization_id])
        uow.commit()
    with pytest.raises(Forbidden, match="conflict of interest"):
        review(world, rev, submitted)
    assert world.count("reviews") == 0


@pytest.mark.parametrize("case", ["not a reviewer", "inactive", "unknown", "empty"])
def test_only_active_reviewers_can_be_assigned(world, submitted, bakery, case):
    if case == "empty":
        ids = []
    elif case == "unknown":
        ids = [999]
    elif case == "not a reviewer":
        ids = [world.user("plain@uni.example", None).id]
    else:
        rev = world.reviewer()
        world.run(identity.set_roles, world.operator, rev.id, active=False)
        ids = [rev.id]
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput) as exc:
        world.run(decisions.assign_reviewers, world.operator, submitted, ids)
    assert exc.value.errors[0].field == "reviewer_ids"
    assert world.snapshot_counts() == before


def candidates(world, pid):
    return [u.id for u in world.read(decisions.reviewer_candidates, world.operator, pid)]


def test_reviewer_candidates_leave_out_conflicts_inactive_and_assigned_reviewers(
    world, bakery, institute, outsider, submitted, reviewer
):
    lead_side = world.reviewer("rev@backhaus.example", organization_id=bakery.user.organization_id)
    partner_side = world.reviewer("rev@fz-nord.example", organization_id=institute.user.organization_id)
    elsewhere = world.reviewer("rev@medvision.example", organization_id=outsider.user.organization_id)
    retired = world.reviewer("rev@retired.example")
    world.run(identity.set_roles, world.operator, retired.id, active=False)
    world.user("plain@uni.example", None)  # not a reviewer
    assert candidates(world, submitted) == [reviewer.id, elsewhere.id]
    assign(world, submitted, reviewer)
    assert candidates(world, submitted) == [elsewhere.id]
    # every candidate can be assigned; no one else can
    for conflicted in (lead_side, partner_side):
        with pytest.raises(Forbidden, match="conflict of interest"):
            assign(world, submitted, conflicted)
    assign(world, submitted, elsewhere)
    assert candidates(world, submitted) == []


def test_reviewer_candidates_are_for_operators_and_only_while_reviewers_can_be_assigned(
    world, bakery, submitted, reviewer
):
    with pytest.raises(Forbidden):
        world.read(decisions.reviewer_candidates, bakery, submitted)
    with pytest.raises(NotFound):
        world.read(decisions.reviewer_candidates, world.operator, 999)
    assert candidates(world, world.draft(bakery, "fast_lane")) == []
    world.run(proposals.withdraw, bakery, submitted)
    assert candidates(world, submitted) == []


def test_ready_to_accept_follows_the_state_and_the_required_reviews(world, bakery, outsider):
    pid = world.draft(outsider, "large_scale", requested_gpu_hours=100_000, duration_months=6)

    def ready() -> bool:
        return world.read(lambda uow: decisions.ready_to_accept(uow, uow.proposals.get(pid)))

    assert not ready()  # a draft
    world.submit(outsider, pid)
    r1, r2 = world.reviewer("a@uni.example"), world.reviewer("b@uni.example")
    assign(world, pid, r1, r2)
    review(world, r1, pid)
    assert not ready()
    review(world, r2, pid)
    assert ready()
    decide(world, pid)
    assert not ready()  # decided


def test_assignment_needs_an_operator_and_a_submitted_proposal(world, bakery, reviewer):
    draft = world.draft(bakery, "fast_lane")
    with pytest.raises(Conflict, match="draft"):
        assign(world, draft, reviewer)
    with pytest.raises(Forbidden):
        world.run(decisions.assign_reviewers, bakery, draft, [reviewer.id])
    with pytest.raises(NotFound):
        assign(world, 999, reviewer)


def test_review_rules(world, submitted, reviewer):
    other = world.reviewer("other@uni.example")
    assign(world, submitted, reviewer)
    with pytest.raises(NotFound, match=f"proposal {submitted} not found"):  # unassigned: not even confirmed
        review(world, other, submitted)
    with pytest.raises(InvalidInput) as exc:
        review(world, reviewer, submitted, scores={"excellence": 0, "impact": 6})
    assert {e.field for e in exc.value.errors} == {"scores.excellence", "scores.impact", "scores.feasibility"}
    with pytest.raises(InvalidInput) as exc:
        review(world, reviewer, submitted, comments={"novelty": "?"})
    assert exc.value.errors[0].field == "comments"
    assert world.count("reviews") == 0
    review(world, reviewer, submitted)
    with pytest.raises(Conflict, match="already reviewed"):
        review(world, reviewer, submitted)


def test_reviews_only_while_under_review(world, submitted, reviewer):
    assign(world, submitted, reviewer)
    review(world, reviewer, submitted)
    decide(world, submitted)
    late = world.reviewer("late@uni.example")
    with pytest.raises(Conflict):
        assign(world, submitted, late)


def test_deciding_before_the_required_reviews_is_a_conflict(world, outsider):
    pid = world.draft(outsider, "large_scale", requested_gpu_hours=100_000, duration_months=6)
    world.submit(outsider, pid)
    r1, r2 = world.reviewer("a@uni.example"), world.reviewer("b@uni.example")
    assign(world, pid, r1, r2)
    review(world, r1, pid)
    before = world.snapshot_counts()
    with pytest.raises(Conflict, match="1 of the 2 required reviews"):
        decide(world, pid)
    assert world.snapshot_counts() == before
    review(world, r2, pid)
    assert decide(world, pid).status is ProposalStatus.ACCEPTED


@pytest.mark.parametrize("mode", ["playground", "fast_lane"])
def test_deciding_a_draft_is_a_conflict_about_its_state(world, bakery, mode):
    pid = world.draft(bakery, mode)
    for accept, reason in ((True, ""), (False, "Out of scope"), (False, "")):
        with pytest.raises(Conflict, match="draft"):
            decide(world, pid, accept=accept, reason=reason)
    assert world.proposal(pid).status is ProposalStatus.DRAFT


@pytest.mark.parametrize("awarded", [8_001, 0, -1])
def test_the_award_is_at_most_the_requested_hours(world, submitted, reviewer, awarded):
    assign(world, submitted, reviewer)
    review(world, reviewer, submitted)
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput) as exc:
        decide(world, submitted, awarded_gpu_hours=awarded)
    assert exc.value.errors[0].field == "awarded_gpu_hours"
    assert world.proposal(submitted).status is ProposalStatus.UNDER_REVIEW
    assert world.snapshot_counts() == before


@pytest.mark.parametrize("failing", ["add_months", "slurm_account_name"])
def test_acceptance_is_atomic(world, submitted, reviewer, monkeypatch, failing):
    assign(world, submitted, reviewer)
    review(world, reviewer, submitted)
    before = world.snapshot_counts()

    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(decisions, failing, boom)
    with pytest.raises(RuntimeError):
        decide(world, submitted)
    assert world.snapshot_counts() == before
    assert world.count("projects") == 0 and world.count("allocations") == 0
    assert world.proposal(submitted).status is ProposalStatus.UNDER_REVIEW
    assert "proposal.accepted" not in world.actions()
    monkeypatch.undo()
    assert decide(world, submitted).status is ProposalStatus.ACCEPTED
    assert world.count("projects") == 1 and world.count("allocations") == 1


def test_rejection_needs_a_reason(world, submitted):
    with pytest.raises(InvalidInput) as exc:
        decide(world, submitted, accept=False, reason="  ")
    assert exc.value.errors[0].field == "reason"
    assert world.proposal(submitted).status is ProposalStatus.SUBMITTED
    p = decide(world, submitted, accept=False, reason=" Out of scope for AI. ")
    assert (p.status, p.decision_reason, p.decided_by) == (
        ProposalStatus.REJECTED,
        "Out of scope for AI.",
        world.operator.id,
    )
    assert world.count("projects") == 0
    with pytest.raises(Conflict, match="final"):
        decide(world, submitted)


def test_only_operators_decide(world, bakery, submitted):
    with pytest.raises(Forbidden):
        world.run(decisions.decide, bakery, submitted, accept_it=False, reason="no")


def test_withdraw_under_review(world, bakery, submitted, reviewer):
    assign(world, submitted, reviewer)
    assert world.run(proposals.withdraw, bakery, submitted).status is ProposalStatus.WITHDRAWN
    with pytest.raises(Conflict):
        review(world, reviewer, submitted)


def test_team_members_with_accounts_join_at_acceptance(world, bakery, institute, outsider):
    lars = world.user("lars@fz-nord.example", institute.user.organization_id)
    claire = world.user("claire@medvision.example", outsider.user.organization_id)
    team = [
        {"name": "Lars", "email": "LARS@fz-nord.example", "role": "advisor"},
        {"name": "Claire", "email": "claire@medvision.example"},  # not of a project organization
        {"name": "Nobody", "email": "nobody@nowhere.example"},  # no account
        {"name": "Anna", "email": bakery.user.email},
    ]  # the author is PI already
    pid = world.draft(bakery, partner_organization_ids=[institute.user.organization_id], team=team)
    world.submit(bakery, pid)
    with world.uow_factory(write=False) as uow:
        project = uow.projects.by_proposal(pid)
    assert {(m.user_id, m.role) for m in project.members} == {
        (bakery.id, ProjectRole.PI),
        (lars.id, ProjectRole.MEMBER),
    }
    assert project.role_of(claire.id) is None


def test_who_sees_which_reviews(world, bakery, institute, submitted, reviewer):
    other = world.reviewer("other@uni.example")
    assign(world, submitted, reviewer, other)
    review(world, reviewer, submitted)
    assert world.read(decisions.reviews_of, bakery, submitted) == ([], True)  # not before the decision
    assert len(world.read(decisions.reviews_of, world.operator, submitted)[0]) == 1
    assert world.read(decisions.reviews_of, other, submitted) == ([], False)  # not the other reviewer's
    review(world, other, submitted)
    decide(world, submitted)
    reviews, anonymous = world.read(decisions.reviews_of, institute, submitted)
    assert len(reviews) == 2 and anonymous


def test_review_queue_lists_open_assignments_first(world, bakery, submitted, reviewer, outsider):
    second = world.draft(outsider, "fast_lane")
    world.submit(outsider, second)
    assign(world, submitted, reviewer)
    assign(world, second, reviewer)
    review(world, reviewer, submitted)
    queue = world.read(decisions.review_queue, reviewer)
    assert [(p.id, done) for _a, p, done in queue] == [(second, False), (submitted, True)]
    assert world.read(decisions.review_queue, bakery) == []
