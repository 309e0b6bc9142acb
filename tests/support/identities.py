"""POSIX identities in the tests: a prefix and id ranges of a test's own (so that parallel workers and earlier
runs never collide on this machine's accounts), cleanup of the accounts and Slurm associations a test made,
and the development LDAP server (``scripts/ldap-dev-server start``)."""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ldap3
import pytest

from aifactory.domain.posix import IdentityPolicy, IdRange
from aifactory.identity.ldap import LdapProvisioner

LDAP_START = "scripts/ldap-dev-server start"
LDAP_DEFAULTS = {  # what `scripts/ldap-dev-server env` prints with its defaults
    "AIFACTORY_LDAP_URL": "ldap://127.0.0.1:3389",
    "AIFACTORY_LDAP_BIND_DN": "cn=admin,dc=aifactory,dc=test",
    "AIFACTORY_LDAP_BIND_PASSWORD": "aifactory-dev-ldap",
    "AIFACTORY_LDAP_USERS_DN": "ou=people,dc=aifactory,dc=test",
    "AIFACTORY_LDAP_GROUPS_DN": "ou=groups,dc=aifactory,dc=test",
}


def unique_policy(size: int = 1000) -> IdentityPolicy:
    """A fresh prefix (``aift`` + 6 hex digits) and uid/gid ranges of ``size`` ids no other run picks
    (random blocks far above the site defaults)."""
    block = secrets.randbelow(900_000) * size
    uid_first = 10_000_000 + block
    gid_first = 1_000_000_000 + block
    return IdentityPolicy(
        f"aift{secrets.token_hex(3)}",
        IdRange(uid_first, uid_first + size - 1, "test uids"),
        IdRange(gid_first, gid_first + size - 1, "test gids"),
    )


def policy_settings(policy: IdentityPolicy) -> dict[str, object]:
    """The settings that configure ``policy``."""
    return {
        "identity_prefix": policy.prefix,
        "identity_uid_first": policy.uids.first,
        "identity_uid_last": policy.uids.last,
        "identity_gid_first": policy.gids.first,
        "identity_gid_last": policy.gids.last,
    }


def require_root() -> None:
    """The local provisioner needs root: skip without it, fail instead in CI (which runs as root)."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("these tests create accounts with useradd and need root (CI runs as root)")
    pytest.skip("needs root (useradd/groupadd)")


@dataclass
class LocalAccounts:
    """This machine's accounts whose names start with the prefix: listed, and removed at cleanup (users first,
    with their Slurm associations)."""

    prefix: str

    def users(self) -> list[str]:
        return sorted(p.pw_name for p in pwd.getpwall() if p.pw_name.startswith(self.prefix))

    def groups(self) -> list[str]:
        return sorted(g.gr_name for g in grp.getgrall() if g.gr_name.startswith(self.prefix))

    def cleanup(self) -> None:
        users = self.users()
        if users and shutil.which("sacctmgr"):
            for user in users:
                subprocess.run(["scancel", "-u", user], capture_output=True, timeout=30)
            where = ["where", f"name={','.join(users)}"]
            subprocess.run(["sacctmgr", "-i", "delete", "user", *where], capture_output=True, timeout=60)
        for user in users:
            subprocess.run(["userdel", user], capture_output=True, timeout=30)
        for group in self.groups():
            subprocess.run(["groupdel", group], capture_output=True, timeout=30)


def ldap_env() -> dict[str, str]:
    """The LDAP settings of the development server (the environment's, else its defaults)."""
    return {name: os.environ.get(name, default) for name, default in LDAP_DEFAULTS.items()}


def ldap_unavailable() -> str | None:
    env = ldap_env()
    try:
        conn = ldap3.Connection(
            ldap3.Server(env["AIFACTORY_LDAP_URL"], connect_timeout=3),
            env["AIFACTORY_LDAP_BIND_DN"],
            env["AIFACTORY_LDAP_BIND_PASSWORD"],
            raise_exceptions=True,
        )
        conn.bind()
        conn.unbind()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"no LDAP server at {env['AIFACTORY_LDAP_URL']} ({type(exc).__name__}: {exc})"
    return None


def skip_or_fail_without_ldap() -> None:
    reason = ldap_unavailable()
    if reason is None:
        return
    reason = f"{reason}; start it with `{LDAP_START}`"
    if os.environ.get("AIFACTORY_REQUIRE_LDAP") == "1":
        pytest.fail(reason + " (AIFACTORY_REQUIRE_LDAP=1)")
    pytest.skip(reason)


@contextmanager
def reachable_folder(label: str) -> Iterator[Path]:
    """A fresh folder under /tmp that every identity can pass through (0711; pytest's own temporary folders
    sit under a 0700 one), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=f"aifactory-{label}-", dir="/tmp"))
    folder.chmod(0o711)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def ldap_provisioner(**overrides: object) -> LdapProvisioner:
    """The ldap provisioner on the development server (``overrides``: its constructor's arguments)."""
    env = ldap_env()
    arguments: dict[str, object] = {
        "url": env["AIFACTORY_LDAP_URL"],
        "bind_dn": env["AIFACTORY_LDAP_BIND_DN"],
        "password": env["AIFACTORY_LDAP_BIND_PASSWORD"],
        "users_dn": env["AIFACTORY_LDAP_USERS_DN"],
        "groups_dn": env["AIFACTORY_LDAP_GROUPS_DN"],
        "timeout": 5.0,
        **overrides,
    }
    return LdapProvisioner(**arguments)  # type: ignore[arg-type]


def ldap_connection() -> ldap3.Connection:
    env = ldap_env()
    server = ldap3.Server(env["AIFACTORY_LDAP_URL"], connect_timeout=5)
    return ldap3.Connection(server, env["AIFACTORY_LDAP_BIND_DN"], env["AIFACTORY_LDAP_BIND_PASSWORD"], auto_bind=True)


def remove_ldap_entries(prefix: str) -> None:
    """Every entry under the users and groups DNs whose name starts with ``prefix``."""
    env = ldap_env()
    conn = ldap_connection()
    for base in (env["AIFACTORY_LDAP_USERS_DN"], env["AIFACTORY_LDAP_GROUPS_DN"]):
        conn.search(base, f"(|(uid={prefix}*)(cn={prefix}*))", attributes=[])
        for entry in list(conn.entries):
            conn.delete(entry.entry_dn)
    conn.unbind()
