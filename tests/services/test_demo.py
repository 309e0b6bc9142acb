"""The demo factory, seeded through the services on each database, ends in the documented state."""

from __future__ import annotations

from aifactory.demo import OPERATOR_EMAIL, seed_demo
from aifactory.domain.enums import ProjectRole, ProposalStatus
from aifactory.services import identity

EXPECTED = {
    "bakery": ProposalStatus.ACCEPTED,
    "medvision": ProposalStatus.UNDER_REVIEW,
    "autonomia": ProposalStatus.SUBMITTED,
    "juelich": ProposalStatus.DRAFT,
    "gridwise": ProposalStatus.ACCEPTED,
}


def test_demo_seed(uow_factory, clock):
    info = seed_demo(uow_factory, clock)
    assert set(info.call_ids) == {"playground", "fast_lane", "large_scale"}
    with uow_factory(write=False) as uow:
        assert {k: uow.proposals.get(pid).status for k, pid in info.proposal_ids.items()} == EXPECTED
        bakery = uow.projects.by_proposal(info.proposal_ids["bakery"])
        lars = uow.users.by_email("lars@fz-nord.example")
        assert bakery.role_of(lars.id) is ProjectRole.MEMBER  # named in the team, partner organization
        assert [a.gpu_hours for a in bakery.allocations] == [500]
        grid = uow.projects.by_proposal(info.proposal_ids["gridwise"])
        assert [a.gpu_hours for a in grid.allocations] == [6_000]
        for email, secret in info.tokens.items():
            user, _tok = identity.authenticate(uow, clock, secret)
            assert user.email == email
        assert uow.users.by_email(OPERATOR_EMAIL).is_operator
