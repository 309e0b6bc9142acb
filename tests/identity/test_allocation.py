"""Allocation of POSIX identities on both databases: names derived from ids only, ids from the configured
ranges, unique (database constraints), never reused, a clear error when a range is exhausted; and the desired
directory state that members, removals and the end of a project lead to."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from aifactory.domain.enums import AllocationStatus
from aifactory.domain.posix import IdentityPolicy, IdentityRangeExhausted, IdRange
from aifactory.services import identities, projects
from aifactory.services.context import Actor
from aifactory.services.ports import FixedClock
from aifactory.store import tables
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.demo import PEOPLE, DemoSnapshot, load_rows
from tests.support.identities import unique_policy


@pytest.fixture
def demo(uow_factory: SqlUnitOfWorkFactory, demo_snapshot: DemoSnapshot) -> SqlUnitOfWorkFactory:
    load_rows(uow_factory, demo_snapshot.rows)
    return uow_factory


def user_id(factory: SqlUnitOfWorkFactory, who: str) -> int:
    with factory(write=False) as uow:
        user = uow.users.by_email(PEOPLE[who])
        assert user is not None
        return user.stored_id


def allocate(factory: SqlUnitOfWorkFactory, clock: FixedClock, policy: IdentityPolicy, user: int, project: int) -> None:
    with factory() as uow:
        identities.allocate(uow, clock, policy, user, project)
        uow.commit()


def test_names_come_from_ids_and_ids_from_the_ranges(demo, clock):
    policy = unique_policy()
    anna, lars = user_id(demo, "anna"), user_id(demo, "lars")
    allocate(demo, clock, policy, anna, 1)
    allocate(demo, clock, policy, lars, 1)
    allocate(demo, clock, policy, anna, 1)  # again: nothing new
    with demo(write=False) as uow:
        assert uow.posix.user(anna).name == f"{policy.prefix}u{anna}"
        assert uow.posix.user(anna).uid == policy.uids.first
        assert uow.posix.user(lars).uid == policy.uids.first + 1
        assert uow.posix.group(1).name == f"{policy.prefix}p1"
        assert uow.posix.group(1).gid == policy.gids.first
        assert len(uow.posix.users()) == 2 and len(uow.posix.groups()) == 1


def test_ids_are_never_reused_even_when_a_row_goes(demo, clock):
    policy = unique_policy()
    anna, lars = user_id(demo, "anna"), user_id(demo, "lars")
    allocate(demo, clock, policy, anna, 1)
    first = policy.uids.first
    with demo() as uow:
        uow.session.execute(delete(tables.posix_users))
        uow.commit()
    allocate(demo, clock, policy, lars, 1)
    with demo(write=False) as uow:
        assert uow.posix.user(lars).uid == first + 1  # the counter only grows


def test_a_full_range_is_a_clear_error_and_nothing_half_stored(demo, clock):
    base = unique_policy()
    policy = IdentityPolicy(
        base.prefix, IdRange(base.uids.first, base.uids.first, "AIFACTORY_IDENTITY_UID_*"), base.gids
    )
    allocate(demo, clock, policy, user_id(demo, "anna"), 1)
    with pytest.raises(IdentityRangeExhausted, match="AIFACTORY_IDENTITY_UID_.*exhausted") as caught:
        allocate(demo, clock, policy, user_id(demo, "lars"), 1)
    assert caught.value.status == 503
    with demo(write=False) as uow:
        assert uow.posix.user(user_id(demo, "lars")) is None


def test_the_database_keeps_names_and_ids_unique(demo, clock):
    policy = unique_policy()
    allocate(demo, clock, policy, user_id(demo, "anna"), 1)
    lars = user_id(demo, "lars")
    for clash in (
        {"name": f"{policy.prefix}u999", "uid": policy.uids.first},
        {"name": f"{policy.prefix}u{user_id(demo, 'anna')}", "uid": 1},
    ):
        with pytest.raises(IntegrityError), demo() as uow:
            uow.session.execute(insert(tables.posix_users).values(user_id=lars, created_at=clock.now(), **clash))
            uow.commit()


def test_allocate_missing_covers_every_member_and_project(demo, clock):
    policy = unique_policy()
    assert identities.allocate_missing(demo, clock, policy) > 0
    with demo(write=False) as uow:
        members = {m.user_id for m in uow.posix.memberships()}
        assert set(uow.posix.users()) == members
        assert set(uow.posix.groups()) == set(uow.posix.project_accounts())
        names = [u.name for u in uow.posix.users().values()] + [g.name for g in uow.posix.groups().values()]
    assert all(name.startswith(policy.prefix) for name in names) and len(set(names)) == len(names)
    assert identities.allocate_missing(demo, clock, policy) == 0


def test_desired_state_follows_membership_and_the_end_of_a_project(demo, clock):
    policy = unique_policy()
    identities.allocate_missing(demo, clock, policy)
    anna, lars = user_id(demo, "anna"), user_id(demo, "lars")
    with demo(write=False) as uow:
        group = uow.posix.group(1)
        want = identities.desired_directory(uow, clock.now().date())
        lars_user, account = uow.posix.user(lars), uow.posix.project_accounts()[1]
        run_as = identities.run_as(uow, lars, 1, today=clock.now().date())
    assert want.users[lars_user] == (group,) and lars_user.name in want.accounts[account]
    assert run_as is not None and run_as.user == lars_user and run_as.group == group and run_as.groups == (group,)

    with demo() as uow:  # anna (PI) removes lars
        projects.remove_member(uow, clock, Actor(uow.users.get(anna)), 1, lars)
    with demo(write=False) as uow:
        want = identities.desired_directory(uow, clock.now().date())
        assert identities.run_as(uow, lars, 1, today=clock.now().date()).groups == ()
    assert want.users[lars_user] == () and lars_user.name not in want.accounts[account]

    with demo(write=False) as uow:  # the project's allocations all end: its group empties, its account too
        last_day = max(a.end_date for a in uow.projects.get(1).allocations)
    want = _desired(demo, last_day + timedelta(days=1))
    assert group in want.groups and want.accounts[account] == ()
    assert all(group not in groups for groups in want.users.values())


def test_an_exhausted_allocation_ends_the_project_and_a_suspended_one_does_not(demo, clock):
    identities.allocate_missing(demo, clock, unique_policy())
    for status, ended in ((AllocationStatus.SUSPENDED, False), (AllocationStatus.EXHAUSTED, True)):
        with demo() as uow:
            for alloc in uow.projects.get(1).allocations:
                alloc.status = status
            uow.commit()
        with demo(write=False) as uow:
            account = uow.posix.project_accounts()[1]
        assert (_desired(demo, clock.now().date()).accounts[account] == ()) is ended


def test_run_as_is_none_until_both_identities_exist(demo, clock):
    policy = unique_policy()
    anna = user_id(demo, "anna")
    with demo(write=False) as uow:
        assert identities.run_as(uow, anna, 1) is None
    allocate(demo, clock, policy, anna, 1)
    with demo(write=False) as uow:
        assert identities.run_as(uow, anna, 1) is not None
        assert identities.run_as(uow, anna, 2) is None  # project 2 has no group yet


def _desired(factory: SqlUnitOfWorkFactory, today: date) -> identities.DesiredDirectory:
    with factory(write=False) as uow:
        return identities.desired_directory(uow, today)
