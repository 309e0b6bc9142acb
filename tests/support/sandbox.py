"""The local executor's sandbox in the tests: bubblewrap required (skipped where it cannot work, failed instead
with AIFACTORY_REQUIRE_BWRAP=1, as in CI), and real job owners made with groupadd/useradd under a prefix of
the test's own (removed afterwards)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aifactory.backends.local_sandbox import SandboxConfig, probe
from aifactory.domain.posix import PosixGroup, PosixUser, RunAs
from tests.support.identities import LocalAccounts, require_root, unique_policy


def require_bwrap() -> None:
    """bubblewrap must work here: skip without it, fail instead when AIFACTORY_REQUIRE_BWRAP=1."""
    state = probe(SandboxConfig(readonly=()))
    if state.works:
        return
    if os.environ.get("AIFACTORY_REQUIRE_BWRAP") == "1":
        pytest.fail(f"{state.reason} (AIFACTORY_REQUIRE_BWRAP=1)")
    pytest.skip(state.reason)


@contextmanager
def owners(count: int = 1) -> Iterator[list[RunAs]]:
    """``count`` real users, each with a group of its own (uids and gids from a random block), removed after."""
    require_root()
    policy = unique_policy()
    accounts = LocalAccounts(policy.prefix)
    made = []
    try:
        for n in range(count):
            user, group = f"{policy.prefix}u{n}", f"{policy.prefix}g{n}"
            uid, gid = policy.uids.first + n, policy.gids.first + n
            subprocess.run(["groupadd", "-g", str(gid), group], check=True, capture_output=True, timeout=30)
            subprocess.run(
                ["useradd", "-M", "-N", "-u", str(uid), "-g", str(gid), "-s", "/usr/sbin/nologin", user],
                check=True,
                capture_output=True,
                timeout=30,
            )
            made.append(RunAs(PosixUser(user, uid), PosixGroup(group, gid)))
        yield made
    finally:
        accounts.cleanup()


def world_traversable(path: Path) -> None:
    """Let other users pass through ``path`` and its parents (pytest's tmp folders are 0700): what a site does
    for job folders when no sandbox binds them (not needed inside the sandbox)."""
    for folder in (path, *path.parents):
        if folder == Path("/"):
            break
        os.chmod(folder, os.stat(folder).st_mode | 0o011)
