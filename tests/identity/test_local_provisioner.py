"""What the ``local`` provisioner writes on this machine (needs root; the shared contract is in
test_provisioner_contract.py): the ids asked for, a private primary group, no home and no login shell, argv only;
the identity really runs with the project's group alone; a system account is never taken over."""

from __future__ import annotations

import grp
import pwd
import subprocess
from collections.abc import Iterator, Sequence

import pytest

from aifactory.backends.base import CommandResult, run_command
from aifactory.domain.posix import IdentityPolicy, PosixGroup, PosixUser
from aifactory.identity.local import NO_HOME, NO_SHELL, LocalProvisioner
from aifactory.services.ports import ProvisioningFailed
from tests.support.identities import LocalAccounts, require_root, unique_policy


class CountingRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult:
        self.calls.append(tuple(argv))
        return run_command(argv, input=input, timeout=timeout)


@pytest.fixture
def policy() -> Iterator[IdentityPolicy]:
    require_root()
    policy = unique_policy()
    accounts = LocalAccounts(policy.prefix)
    try:
        yield policy
    finally:
        accounts.cleanup()


def test_the_account_has_its_ids_a_private_group_and_no_login(policy):
    runner = CountingRunner()
    project = PosixGroup(policy.group_name(1), policy.gids.first)
    user = PosixUser(policy.user_name(7), policy.uids.first)
    local = LocalProvisioner(runner)
    local.ensure_group(project)
    local.ensure_user(user, [project])
    entry = pwd.getpwnam(user.name)
    assert (entry.pw_uid, entry.pw_gid, entry.pw_shell, entry.pw_dir) == (user.uid, user.uid, NO_SHELL, NO_HOME)
    assert grp.getgrgid(user.uid).gr_name == user.name and grp.getgrnam(project.name).gr_gid == project.gid
    assert [call[0] for call in runner.calls] == ["groupadd", "groupadd", "useradd", "usermod"]
    ran = subprocess.run(["runuser", "-u", user.name, "-g", project.name, "--", "id"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert f"uid={user.uid}(" in ran.stdout and f"groups={project.gid}({project.name})" in ran.stdout


def test_names_that_are_no_posix_names_or_system_accounts_are_refused(policy):
    runner = CountingRunner()
    local = LocalProvisioner(runner)
    with pytest.raises(ValueError, match="not a POSIX name"):
        local.ensure_user(PosixUser("x; touch /tmp/PWNED", policy.uids.first), [])
    assert runner.calls == []
    with pytest.raises(ProvisioningFailed, match="root"):
        local.ensure_user(PosixUser("root", policy.uids.first), [])
    assert pwd.getpwnam("root").pw_uid == 0
