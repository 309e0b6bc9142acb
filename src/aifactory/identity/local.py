"""The ``local`` identity provisioner: accounts on this machine (``groupadd``/``useradd``/``usermod``), for the
single-node cluster and the embedded executor. Needs root.

Every command goes through the command-runner seam (argv, never a shell). Reads use the system's account
database (``pwd``/``grp``). Idempotent: an entry that exists with the same name and id is left alone; one that
exists with another id (or an id taken by another name) is a conflict, never overwritten. The shadow tools lock
``/etc/passwd``; a command that finds it locked is retried for a few seconds.
"""

from __future__ import annotations

import grp
import pwd
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

from ..backends.base import CommandResult, CommandRunner, run_command
from ..domain.posix import IdentityPolicy, PosixGroup, PosixUser
from ..services.ports import ProvisioningFailed

if TYPE_CHECKING:
    from ..config import Settings

NO_HOME = "/nonexistent"
NO_SHELL = "/usr/sbin/nologin"
LOCK_RETRY_SECONDS = 10.0
Key = TypeVar("Key", str, int)
Entry = TypeVar("Entry", grp.struct_group, pwd.struct_passwd)


def _entry(lookup: Callable[[Key], Entry], key: Key) -> Entry | None:
    """An account database entry (``pwd``/``grp``), or None where there is none."""
    try:
        return lookup(key)
    except KeyError:
        return None


class LocalProvisioner:
    kind: ClassVar[str] = "local"

    def __init__(self, runner: CommandRunner = run_command):
        self.runner = runner

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalProvisioner:
        return cls()

    def ensure_group(self, group: PosixGroup) -> None:
        name = IdentityPolicy.checked(group.name)
        found = _entry(grp.getgrnam, name)
        if found is not None:
            if found.gr_gid != group.gid:
                raise ProvisioningFailed(f"group {name} exists with gid {found.gr_gid}, not {group.gid}")
            return
        taken = _entry(grp.getgrgid, group.gid)
        if taken is not None:
            raise ProvisioningFailed(f"gid {group.gid} is taken by group {taken.gr_name}, not {name}")
        self._run(["groupadd", "-g", str(group.gid), name])

    def ensure_user(self, user: PosixUser, groups: Sequence[PosixGroup]) -> None:
        name = IdentityPolicy.checked(user.name)
        self.ensure_group(PosixGroup(name, user.uid))  # the private group: gid = uid
        found = _entry(pwd.getpwnam, name)
        if found is not None and found.pw_uid != user.uid:
            raise ProvisioningFailed(f"user {name} exists with uid {found.pw_uid}, not {user.uid}")
        if found is None:
            taken = _entry(pwd.getpwuid, user.uid)
            if taken is not None:
                raise ProvisioningFailed(f"uid {user.uid} is taken by user {taken.pw_name}, not {name}")
            self._run(
                ["useradd", "-u", str(user.uid), "-g", str(user.uid), "-N", "-M", "-l", "-d", NO_HOME, "-s", NO_SHELL]
                + ["-c", "aifactory job identity", name]  # -l: no lastlog/faillog records (sparse at high uids)
            )
        want = sorted({IdentityPolicy.checked(g.name) for g in groups})
        if sorted(self.groups_of(name)) != want:
            self._run(["usermod", "-G", ",".join(want), name])

    @staticmethod
    def groups_of(name: str) -> set[str]:
        """The user's supplementary groups, as the account database says now."""
        return {g.gr_name for g in grp.getgrall() if name in g.gr_mem}

    def _run(self, argv: list[str]) -> CommandResult:
        deadline = time.monotonic() + LOCK_RETRY_SECONDS
        while True:
            result = self.runner(argv)
            if result.returncode == 0:
                return result
            said = (result.stderr or result.stdout).strip()
            if "lock" in said.lower() and time.monotonic() < deadline:  # another tool holds /etc/passwd's lock
                time.sleep(0.1)
                continue
            last = said.splitlines()[-1] if said else "no output"
            raise ProvisioningFailed(f"{argv[0]} {argv[-1]} exited {result.returncode}: {last}")
