"""The identities' convergence through the job gateway and the reconciler, on both databases, with a recording
provisioner and a scheduler that keeps associations: jobs run as their owners with the project's group, the
owner's identity and association exist before the hand-over, removals and the end of a project reach the
directory, one failing identity stops no other, and an unchanged state costs no directory call."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from aifactory.config import Settings
from aifactory.domain.enums import ProjectRole
from aifactory.domain.errors import NotFound
from aifactory.domain.posix import IdentityPolicy, IdentityRangeExhausted, IdRange, PosixGroup, PosixUser
from aifactory.domain.projects import ProjectMember
from aifactory.identity.ldap import LdapProvisioner
from aifactory.identity.local import LocalProvisioner
from aifactory.identity.registry import resolved_kind
from aifactory.runtime import Reconciler, build_gateway
from aifactory.services import identities, jobs, projects
from aifactory.services.context import Actor
from aifactory.services.ports import BackendUnavailable, FixedClock, ProvisioningFailed
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeBackend
from tests.support.demo import PEOPLE, DemoSnapshot, load_rows
from tests.support.identities import ldap_env, policy_settings, unique_policy

JOB = {"name": "t", "project": 1, "command": ["true"], "resources": {"time": 1}}


class RecordingProvisioner:
    """A directory in memory: groups by name, users with their groups; names in ``broken`` fail."""

    kind: ClassVar[str] = "recording"

    def __init__(self) -> None:
        self.groups: dict[str, int] = {}
        self.users: dict[str, tuple[int, frozenset[str]]] = {}
        self.calls = 0
        self.broken: set[str] = set()

    def ensure_group(self, group: PosixGroup) -> None:
        self.calls += 1
        self.groups[group.name] = group.gid

    def ensure_user(self, user: PosixUser, groups: Sequence[PosixGroup]) -> None:
        self.calls += 1
        if user.name in self.broken:
            raise ProvisioningFailed(f"{user.name}: the directory said no")
        assert all(g.name in self.groups for g in groups), "groups are ensured before their members"
        self.users[user.name] = (user.uid, frozenset(g.name for g in groups))


class MemberBackend(FakeBackend):
    """The fake scheduler with associations (``MembershipBackend``)."""

    def __init__(self) -> None:
        super().__init__()
        self.associations: dict[str, set[str]] = {}

    def ensure_project(self, account):  # type: ignore[no-untyped-def]
        super().ensure_project(account)
        self.associations.setdefault(account.account, set()).update(account.users)

    def set_account_users(self, account: str, users: Sequence[str]) -> None:
        self.associations[account] = set(users)


@pytest.fixture
def demo(uow_factory: SqlUnitOfWorkFactory, demo_snapshot: DemoSnapshot) -> SqlUnitOfWorkFactory:
    load_rows(uow_factory, demo_snapshot.rows)
    return uow_factory


@pytest.fixture
def directory() -> RecordingProvisioner:
    return RecordingProvisioner()


@pytest.fixture
def gw(tmp_path: Path, directory: RecordingProvisioner) -> jobs.Gateway:
    sync = identities.IdentitySync(directory, unique_policy())
    return jobs.Gateway(MemberBackend(), "fake", "t", tmp_path / "jobs", submit_user="svc", identities=sync)


def actor(factory: SqlUnitOfWorkFactory, who: str) -> Actor:
    with factory(write=False) as uow:
        user = uow.users.by_email(PEOPLE[who])
        assert user is not None
        return Actor(user)


def names(factory: SqlUnitOfWorkFactory, who: str, project: int = 1) -> tuple[str, str, str]:
    """The person's POSIX user name, the project's group name and its scheduler account."""
    with factory(write=False) as uow:
        user, group = uow.posix.user(actor(factory, who).id), uow.posix.group(project)
        assert user is not None and group is not None
        return user.name, group.name, uow.posix.project_accounts()[project]


def test_a_job_runs_as_its_owner_with_the_projects_group(demo, clock, gw, directory):
    job = jobs.submit_job(demo, clock, actor(demo, "anna"), gw, dict(JOB))
    handed = gw.backend.jobs[job.backend_id]
    user, group, account = names(demo, "anna")
    assert handed.run_as is not None
    assert (handed.run_as.user.name, handed.run_as.group.name) == (user, group)
    assert directory.users[user][1] == {group} and group in directory.groups  # made to exist first
    assert gw.backend.associations[account] == {user}  # the owner, never the one submit user "svc"


def test_the_reconciler_step_converges_everything_once(demo, clock, gw, directory):
    report = gw.identities.sync(demo, clock, gw.backend)
    assert report.allocated > 0 and not report.failures
    anna, group, account = names(demo, "anna")
    lars, _, _ = names(demo, "lars")
    assert directory.users[anna][1] == directory.users[lars][1] == {group}
    assert gw.backend.associations[account] == {anna, lars}
    calls = directory.calls
    again = gw.identities.sync(demo, clock, gw.backend)
    assert again.applied == [] and directory.calls == calls  # unchanged: no directory call at all


def test_a_removed_member_is_refused_and_loses_the_group_at_their_next_job(demo, clock, gw, directory):
    lars = actor(demo, "lars")
    with demo() as uow:  # lars is also in project 2 (written directly: the rule on organizations is not tested here)
        project = uow.projects.get(2)
        project.members.append(ProjectMember(user_id=lars.id, role=ProjectRole.MEMBER, added_at=clock.now()))
        uow.commit()
    gw.identities.sync(demo, clock, gw.backend)
    jobs.submit_job(demo, clock, lars, gw, dict(JOB))
    user, group1, account1 = names(demo, "lars")
    assert directory.users[user][1] == {group1, names(demo, "lars", 2)[1]}
    with demo() as uow:
        projects.remove_member(uow, clock, actor(demo, "anna"), 1, lars.id)
    with pytest.raises(NotFound):
        jobs.submit_job(demo, clock, lars, gw, dict(JOB))
    job = jobs.submit_job(demo, clock, lars, gw, {**JOB, "project": 2})  # the next job, before any sync pass
    group2 = names(demo, "lars", 2)[1]
    assert gw.backend.jobs[job.backend_id].run_as.groups == (PosixGroup(group2, directory.groups[group2]),)
    assert directory.users[user][1] == {group2}
    gw.identities.sync(demo, clock, gw.backend)
    assert user not in gw.backend.associations[account1]


def test_the_end_of_a_project_empties_its_group_and_account(demo, clock, gw, directory):
    gw.identities.sync(demo, clock, gw.backend)
    anna, group, account = names(demo, "anna")
    with demo(write=False) as uow:
        last_day = max(a.end_date for a in uow.projects.get(1).allocations)
    later = FixedClock(clock.now() + timedelta(days=(last_day - clock.now().date()).days + 1))
    report = gw.identities.sync(demo, later, gw.backend)
    assert f"user {anna}" in report.applied
    assert all(group not in groups for _uid, groups in directory.users.values())
    assert gw.backend.associations[account] == set()


def test_one_failing_identity_stops_no_other_and_is_retried(demo, clock, gw, directory):
    anna = actor(demo, "anna")
    identities.allocate_missing(demo, clock, gw.identities.policy)
    anna_name = names(demo, "anna")[0]
    directory.broken.add(anna_name)
    report = gw.identities.sync(demo, clock, gw.backend)
    assert [f.split(":")[0] for f in report.failures] == [f"user {anna_name}"]
    assert names(demo, "lars")[0] in directory.users and anna_name not in directory.users
    directory.broken.clear()
    assert f"user {anna_name}" in gw.identities.sync(demo, clock, gw.backend).applied
    assert anna.id  # (the person exists; only the directory failed)


def test_a_job_whose_owner_has_no_identity_waits_for_the_reconciler(demo, clock, gw):
    with pytest.raises(BackendUnavailable, match="no POSIX identity"):
        gw.provision("p00001_x", None)
    assert gw.backend.jobs == {}


def test_the_reconciler_runs_the_identity_step_and_survives_its_failure(demo, clock, gw, directory):
    loop = Reconciler(demo, clock, gw, interval=60)
    loop.run_once()
    assert directory.users and loop.failures == 0
    gw.identities.sync = lambda *a: (_ for _ in ()).throw(RuntimeError("directory down"))  # type: ignore[method-assign]
    job = jobs.submit_job(demo, clock, actor(demo, "anna"), gw, dict(JOB))
    gw.backend.states[job.backend_id] = gw.backend.states[job.backend_id].__class__("running")
    loop.run_once()
    assert loop.failures == 1 and loop.passes == 2
    with demo(write=False) as uow:
        assert uow.jobs.get(job.stored_id).state.value == "running"  # the job reconcile still ran


def test_the_gateway_gets_identities_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    policy = unique_policy()
    assert build_gateway(Settings(data_dir=tmp_path, identity_kind="none")).identities is None
    local = build_gateway(Settings(data_dir=tmp_path, identity_kind="local", **policy_settings(policy)))
    assert isinstance(local.identities.provisioner, LocalProvisioner) and local.identities.policy == policy
    env = {k.removeprefix("AIFACTORY_").lower(): v for k, v in ldap_env().items()}
    ldap = build_gateway(Settings(data_dir=tmp_path, identity_kind="ldap", **env))
    assert isinstance(ldap.identities.provisioner, LdapProvisioner)
    assert resolved_kind("auto", root=True) == "local" and resolved_kind("auto", root=False) == "none"
    for name in list(os.environ):
        if name.startswith("AIFACTORY_LDAP_"):  # scripts/test exports the dev server's settings
            monkeypatch.delenv(name)
    with pytest.raises(ValueError, match="AIFACTORY_LDAP_URL"):
        Settings(identity_kind="ldap")
    with pytest.raises(ValueError, match="overlap"):
        Settings(identity_uid_first=300_000, identity_uid_last=300_010)


def test_a_full_uid_range_refuses_the_submission_clearly_and_stores_no_job(demo, clock, tmp_path, directory):
    base = unique_policy()
    tiny = IdentityPolicy(base.prefix, IdRange(base.uids.first, base.uids.first, "AIFACTORY_IDENTITY_UID_*"), base.gids)
    gw = jobs.Gateway(
        MemberBackend(), "fake", "t", tmp_path / "jobs", identities=identities.IdentitySync(directory, tiny)
    )
    jobs.submit_job(demo, clock, actor(demo, "anna"), gw, dict(JOB))
    with demo(write=False) as uow:
        before = len(uow.jobs.open_jobs())
    with pytest.raises(IdentityRangeExhausted, match="exhausted") as refused:
        jobs.submit_job(demo, clock, actor(demo, "lars"), gw, dict(JOB))
    assert refused.value.status == 503
    with demo(write=False) as uow:
        assert len(uow.jobs.open_jobs()) == before and uow.posix.user(actor(demo, "lars").id) is None
