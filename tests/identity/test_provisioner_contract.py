"""One contract for every identity provisioner, run against the real thing: ``local`` (useradd/groupadd/usermod on
this machine; needs root) and ``ldap`` (a real OpenLDAP slapd, ``scripts/ldap-dev-server start``; failed instead
of skipped when AIFACTORY_REQUIRE_LDAP=1). Memberships are set exactly, every call is idempotent, conflicts are
refused and nothing is overwritten. Every entry a test makes is removed afterwards (a prefix of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from aifactory.domain.posix import IdentityPolicy, PosixGroup, PosixUser
from aifactory.identity.ldap import LdapProvisioner
from aifactory.identity.local import LocalProvisioner
from aifactory.services.ports import ProvisioningFailed
from tests.support.identities import (
    LocalAccounts,
    ldap_provisioner,
    remove_ldap_entries,
    require_root,
    skip_or_fail_without_ldap,
    unique_policy,
)


@dataclass
class Directory:
    provisioner: LocalProvisioner | LdapProvisioner
    policy: IdentityPolicy

    def group(self, project: int) -> PosixGroup:
        return PosixGroup(self.policy.group_name(project), self.policy.gids.first + project)

    def user(self, person: int) -> PosixUser:
        return PosixUser(self.policy.user_name(person), self.policy.uids.first + person)


@pytest.fixture(params=["local", "ldap"])
def directory(request: pytest.FixtureRequest) -> Iterator[Directory]:
    policy = unique_policy()
    if request.param == "local":
        require_root()
        accounts = LocalAccounts(policy.prefix)
        try:
            yield Directory(LocalProvisioner(), policy)
        finally:
            accounts.cleanup()
        assert accounts.users() == [] and accounts.groups() == []
    else:
        skip_or_fail_without_ldap()
        try:
            yield Directory(ldap_provisioner(), policy)
        finally:
            remove_ldap_entries(policy.prefix)


def test_memberships_are_set_exactly_and_every_call_is_idempotent(directory):
    made, p1, p2, user = directory.provisioner, directory.group(1), directory.group(2), directory.user(7)
    for _ in range(2):
        made.ensure_group(p1)
        made.ensure_group(p2)
        made.ensure_user(user, [p1, p2])
        assert made.groups_of(user.name) == {p1.name, p2.name}
    made.ensure_user(user, [p2])  # removed from project 1
    assert made.groups_of(user.name) == {p2.name}
    made.ensure_user(user, [])  # every project over
    assert made.groups_of(user.name) == set()


def test_conflicts_are_refused_and_nothing_is_overwritten(directory):
    made, group, user = directory.provisioner, directory.group(1), directory.user(1)
    made.ensure_group(group)
    with pytest.raises(ProvisioningFailed, match="exists with gid"):
        made.ensure_group(PosixGroup(group.name, group.gid + 50))
    with pytest.raises(ProvisioningFailed, match="taken by"):
        made.ensure_group(PosixGroup(directory.policy.group_name(2), group.gid))
    made.ensure_user(user, [group])
    with pytest.raises(ProvisioningFailed, match="exists with (u|g)id"):
        made.ensure_user(PosixUser(user.name, user.uid + 50), [])
    with pytest.raises(ProvisioningFailed, match="taken by"):
        made.ensure_user(PosixUser(directory.policy.user_name(2), user.uid), [])
    made.ensure_user(user, [group])  # the first entries are still what they were
    assert made.groups_of(user.name) == {group.name}
