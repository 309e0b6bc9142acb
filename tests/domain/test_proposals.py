"""The proposal state machine, the ethics self-assessment and the playground's auto-approval rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aifactory.domain.enums import ProposalStatus as S
from aifactory.domain.enums import RiskCategory
from aifactory.domain.errors import Conflict, InvalidInput
from aifactory.domain.proposals import (
    TERMINAL,
    TRANSITIONS,
    Action,
    Proposal,
    allowed,
    allowed_asks,
    auto_approvable,
    check_award,
    check_reviews_in,
    check_submittable,
    decision_ready,
    ethics_flags,
    transition,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FORBIDDEN = [(s, a) for s in S for a in Action if (s, a) not in TRANSITIONS]


def proposal(**kw) -> Proposal:
    base = dict(
        call_id=1,
        lead_organization_id=10,
        author_id=100,
        title="Forecasting bread demand",
        abstract="Daily demand forecasts per product group for forty branches.",
        requested_gpu_hours=500,
        resource_id=1,
        duration_months=3,
        created_at=NOW,
        updated_at=NOW,
    )
    return Proposal(**{**base, **kw})


EXPECTED_ALLOWED = {
    (S.DRAFT, Action.EDIT): S.DRAFT,
    (S.DRAFT, Action.SUBMIT): S.SUBMITTED,
    (S.DRAFT, Action.WITHDRAW): S.WITHDRAWN,
    (S.SUBMITTED, Action.AUTO_ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, Action.ASSIGN_REVIEWERS): S.UNDER_REVIEW,
    (S.SUBMITTED, Action.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, Action.REJECT): S.REJECTED,
    (S.SUBMITTED, Action.WITHDRAW): S.WITHDRAWN,
    (S.UNDER_REVIEW, Action.ASSIGN_REVIEWERS): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, Action.REVIEW): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, Action.ACCEPT): S.ACCEPTED,
    (S.UNDER_REVIEW, Action.REJECT): S.REJECTED,
    (S.UNDER_REVIEW, Action.WITHDRAW): S.WITHDRAWN,
}


@pytest.mark.parametrize(("state", "action"), list(EXPECTED_ALLOWED), ids=lambda v: v.value)
def test_every_allowed_transition_leads_to_the_expected_state(state, action):
    assert transition(state, action) is EXPECTED_ALLOWED[(state, action)]


def test_the_table_has_exactly_the_documented_transitions():
    assert TRANSITIONS == EXPECTED_ALLOWED


@pytest.mark.parametrize(("state", "action"), FORBIDDEN, ids=lambda v: v.value)
def test_every_other_move_is_a_conflict_naming_state_and_allowed_actions(state, action):
    with pytest.raises(Conflict) as exc:
        transition(state, action)
    message = str(exc.value)
    assert state.value in message
    assert action.value.replace("_", " ") in message
    allowed = sorted(a.value for (s, a) in EXPECTED_ALLOWED if s is state)
    if allowed:
        assert f"allowed: {', '.join(allowed)}" in message
    else:
        assert "final" in message


def test_deciding_a_draft_says_what_a_draft_allows():
    with pytest.raises(Conflict, match=r"cannot accept a proposal that is draft \(allowed: edit, submit, withdraw\)"):
        transition(S.DRAFT, Action.ACCEPT)


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_terminal_states_allow_nothing(state):
    assert state in (S.ACCEPTED, S.REJECTED, S.WITHDRAWN)
    for action in Action:
        with pytest.raises(Conflict, match="final"):
            transition(state, action)


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW])
def test_every_open_state_can_be_withdrawn(state):
    assert transition(state, Action.WITHDRAW) is S.WITHDRAWN


#: What each state allows, written out once more by hand: the table the portal and the API show.
EXPECTED_ASKS = {
    S.DRAFT: ["edit", "submit", "withdraw"],
    S.SUBMITTED: ["withdraw", "assign", "decide"],
    S.UNDER_REVIEW: ["withdraw", "assign", "review", "decide"],
    S.ACCEPTED: [],
    S.REJECTED: [],
    S.WITHDRAWN: [],
}


@pytest.mark.parametrize("state", list(S), ids=lambda v: v.value)
def test_allowed_answers_from_the_transitions_for_every_state(state):
    assert allowed_asks(state) == EXPECTED_ASKS[state]
    for action in Action:
        assert allowed(state, action) is ((state, action) in EXPECTED_ALLOWED)
    assert allowed(state, "assign") is allowed(state, Action.ASSIGN_REVIEWERS)
    assert allowed(state, "decide") is (allowed(state, Action.ACCEPT) or allowed(state, Action.REJECT))


@pytest.mark.parametrize(
    ("state", "done", "required", "ready"),
    [
        (S.SUBMITTED, 0, 0, True),
        (S.SUBMITTED, 0, 1, False),
        (S.UNDER_REVIEW, 1, 2, False),
        (S.UNDER_REVIEW, 2, 2, True),
        (S.UNDER_REVIEW, 3, 2, True),
        (S.DRAFT, 0, 0, False),
        (S.ACCEPTED, 2, 2, False),
    ],
)
def test_a_decision_is_ready_once_the_state_allows_it_and_the_reviews_are_in(state, done, required, ready):
    assert decision_ready(state, done, required) is ready
    if done < required:
        with pytest.raises(Conflict, match=f"{done} of the {required} required reviews are in"):
            check_reviews_in(done, required)
    else:
        check_reviews_in(done, required)


@pytest.mark.parametrize(
    ("kw", "flags"),
    [
        ({}, []),
        ({"risk": RiskCategory.LIMITED}, []),
        ({"risk": RiskCategory.HIGH}, ["risk:high"]),
        ({"risk": RiskCategory.PROHIBITED}, ["risk:prohibited"]),
        ({"personal_data": True}, ["personal_data"]),
        ({"health_data": True}, ["health_data"]),
        ({"dual_use": True}, ["dual_use"]),
        (
            {"risk": RiskCategory.HIGH, "personal_data": True, "health_data": True, "dual_use": True},
            ["risk:high", "personal_data", "health_data", "dual_use"],
        ),
    ],
)
def test_ethics_flags(kw, flags):
    args = {"risk": RiskCategory.MINIMAL, "personal_data": False, "health_data": False, "dual_use": False, **kw}
    assert ethics_flags(**args) == flags
    p = proposal(
        risk_category=args["risk"],
        personal_data=args["personal_data"],
        health_data=args["health_data"],
        dual_use=args["dual_use"],
    )
    assert p.ethics_flags == flags


def test_a_prohibited_practice_is_refused_with_a_clear_reason():
    with pytest.raises(InvalidInput) as exc:
        check_submittable(proposal(risk_category=RiskCategory.PROHIBITED))
    assert [e.field for e in exc.value.errors] == ["risk_category"]
    assert "prohibited AI practice" in str(exc.value)
    assert "EU AI Act" in str(exc.value)


@pytest.mark.parametrize("risk", [RiskCategory.MINIMAL, RiskCategory.LIMITED, RiskCategory.HIGH])
def test_other_risk_categories_can_be_submitted(risk):
    check_submittable(proposal(risk_category=risk, personal_data=True, health_data=True, dual_use=True))


@pytest.mark.parametrize(("kw", "field"), [({"title": "   "}, "title"), ({"abstract": "too short"}, "abstract")])
def test_submission_needs_title_and_abstract(kw, field):
    with pytest.raises(InvalidInput) as exc:
        check_submittable(proposal(**kw))
    assert exc.value.errors[0].field == field


@pytest.mark.parametrize(
    ("kw", "threshold", "expected"),
    [
        ({}, 1000, True),
        ({"requested_gpu_hours": 1000}, 1000, True),
        ({"requested_gpu_hours": 1001}, 1000, False),
        ({}, None, False),
        ({"risk_category": RiskCategory.LIMITED}, 1000, True),
        ({"risk_category": RiskCategory.HIGH}, 1000, False),
        ({"personal_data": True}, 1000, False),
        ({"health_data": True}, 1000, False),
        ({"dual_use": True}, 1000, False),
    ],
)
def test_auto_approvable_only_under_threshold_with_nothing_to_flag(kw, threshold, expected):
    assert auto_approvable(proposal(**kw), threshold) is expected


@pytest.mark.parametrize(
    ("requested", "awarded", "ok"),
    [(500, 500, True), (500, 1, True), (500, 501, False), (500, 0, False), (500, -5, False)],
)
def test_award_is_between_one_and_the_requested_hours(requested, awarded, ok):
    if ok:
        check_award(requested, awarded)
    else:
        with pytest.raises(InvalidInput) as exc:
            check_award(requested, awarded)
        assert exc.value.errors[0].field == "awarded_gpu_hours"


def test_partners_are_deduplicated_and_existing_links_kept():
    p = proposal()
    p.set_partners([3, 4, 3])
    first = p.partners[0]
    assert p.partner_organization_ids == [3, 4]
    p.set_partners([5, 3])
    assert p.partner_organization_ids == [5, 3]
    assert p.partners[1] is first
    assert p.organization_ids == {10, 5, 3}
