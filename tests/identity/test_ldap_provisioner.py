"""What the ``ldap`` provisioner writes into a real OpenLDAP slapd (the shared contract is in
test_provisioner_contract.py): a posixAccount with the ids asked for and no login, its private posixGroup, the
project's posixGroup with memberUid values; an unreachable or refusing server is a retryable failure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aifactory.domain.posix import IdentityPolicy, PosixGroup, PosixUser
from aifactory.services.ports import BackendUnavailable
from tests.support.identities import (
    ldap_connection,
    ldap_env,
    ldap_provisioner,
    remove_ldap_entries,
    skip_or_fail_without_ldap,
    unique_policy,
)


@pytest.fixture
def policy() -> Iterator[IdentityPolicy]:
    skip_or_fail_without_ldap()
    policy = unique_policy()
    try:
        yield policy
    finally:
        remove_ldap_entries(policy.prefix)


def entry(base: str, condition: str) -> tuple[str, dict[str, list[object]]]:
    conn = ldap_connection()
    conn.search(base, condition, attributes=["*"])
    (found,) = conn.entries
    conn.unbind()
    return found.entry_dn, found.entry_attributes_as_dict


def test_the_entries_carry_the_ids_and_the_members(policy):
    env = ldap_env()
    project = PosixGroup(policy.group_name(1), policy.gids.first)
    user = PosixUser(policy.user_name(4), policy.uids.first)
    ldap = ldap_provisioner()
    ldap.ensure_group(project)
    ldap.ensure_user(user, [project])
    dn, account = entry(env["AIFACTORY_LDAP_USERS_DN"], f"(uid={user.name})")
    assert dn == f"uid={user.name},{env['AIFACTORY_LDAP_USERS_DN']}"
    assert {"posixAccount", "account"} <= set(account["objectClass"])
    assert account["uidNumber"] == [user.uid] and account["gidNumber"] == [user.uid]
    assert account["loginShell"] == ["/usr/sbin/nologin"] and account["homeDirectory"] == ["/nonexistent"]
    _, private = entry(env["AIFACTORY_LDAP_GROUPS_DN"], f"(cn={user.name})")
    assert private["gidNumber"] == [user.uid] and "memberUid" not in private
    dn, group = entry(env["AIFACTORY_LDAP_GROUPS_DN"], f"(cn={project.name})")
    assert dn == f"cn={project.name},{env['AIFACTORY_LDAP_GROUPS_DN']}"
    assert group["gidNumber"] == [project.gid] and group["memberUid"] == [user.name]


def test_a_server_that_does_not_answer_or_refuses_the_bind_is_retryable(policy):
    group = PosixGroup(policy.group_name(1), policy.gids.first)
    for broken in (ldap_provisioner(url="ldap://127.0.0.1:9"), ldap_provisioner(password="wrong")):
        with pytest.raises(BackendUnavailable, match="cannot bind"):  # ProvisioningFailed: the job waits
            broken.ensure_group(group)
