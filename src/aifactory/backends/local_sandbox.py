"""The host side of the local executor's sandbox: the policy from the settings and this machine (paths resolved),
the probe that tells whether bubblewrap works here, and each job's ``/etc/passwd`` and ``/etc/group``.

Nothing runs at import or construction: the first task (or the first question whether tenants are kept apart)
probes bubblewrap for real, once per backend. No sandbox can be made when ``bwrap`` is missing or the kernel
refuses its namespaces (user namespaces off, a container without the rights); the executor then runs jobs
unconfined and says so (:meth:`SandboxState.notice`), and the job gateway runs one organization's jobs only
(``services.jobs``) unless the operator declared a single-tenant site.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.posix import RunAs
from .sandbox import Hidden, Mount, SandboxPolicy, bwrap_argv

SYSTEM_TOP = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")  # links into /usr on merged-usr systems
PROBE_TIMEOUT = 20.0
_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")


def python_paths() -> tuple[str, ...]:
    """What ``python -m aifactory…`` needs inside a job: this interpreter's environment and base installation,
    and the folder the aifactory package is imported from."""
    import aifactory

    package = Path(aifactory.__file__).resolve().parent
    paths = (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, str(package))
    return tuple(dict.fromkeys(paths))


@dataclass(frozen=True)
class SandboxConfig:
    """What the operator decides (settings), before the host is looked at."""

    network: bool = False
    readonly: tuple[str, ...] = field(default_factory=python_paths)  # Python environment + extra read-only paths
    hidden: tuple[str, ...] = ()  # the data dir, the database file, the executor's own folder
    program: str = "bwrap"  # looked up on the PATH at the probe


@dataclass(frozen=True)
class SandboxState:
    """What the probe found: the policy, and whether bubblewrap works here (``reason`` says why not)."""

    policy: SandboxPolicy
    bwrap: str | None  # its path, when it works
    reason: str = ""

    @property
    def works(self) -> bool:
        return self.bwrap is not None

    def notice(self, single_tenant: bool = False) -> str:
        """The line ``serve`` and ``demo`` print at start-up."""
        if self.works:
            network = "the host's network (AIFACTORY_LOCAL_NETWORK)" if self.policy.network else "no network"
            return f"local executor: every job runs in a bubblewrap sandbox ({self.bwrap}; {network})"
        if single_tenant:
            rule = "AIFACTORY_LOCAL_SINGLE_TENANT=1 declares one tenant, so every organization's jobs run so"
        else:
            rule = "only one organization's jobs are run (AIFACTORY_LOCAL_SINGLE_TENANT=1 declares a single tenant)"
        return (
            f"WARNING: local executor: NO SANDBOX ({self.reason}). Jobs run unconfined, able to read what this "
            f"server's user can read; {rule}. Install bubblewrap (Debian: apt-get install bubblewrap) to confine "
            "jobs."
        )


def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _mounts(paths: tuple[str, ...], system: tuple[str, ...]) -> tuple[Mount, ...]:
    """Each existing path at its own place (and at its resolved place when a symlink leads elsewhere), except
    what the system folders bind already."""
    mounts: dict[str, Mount] = {}
    for given in paths:
        dest, real = os.path.normpath(os.path.abspath(given)), _real(given)
        if not os.path.exists(real) or any(dest == s or dest.startswith(s + "/") for s in system):
            continue
        for at in (dest, real):
            mounts.setdefault(at, Mount(real, at))
    return tuple(mounts.values())


def host_policy(config: SandboxConfig) -> SandboxPolicy:
    """The policy for this machine: its /usr layout, the configured paths resolved, root or not."""
    links, dirs = [], ["/usr"]
    for name in SYSTEM_TOP:
        path = f"/{name}"
        if os.path.islink(path):
            links.append((path, os.readlink(path)))
        elif os.path.isdir(path):
            dirs.append(path)
    hidden = tuple(Hidden(_real(p), os.path.isdir(p)) for p in config.hidden if os.path.lexists(p))
    return SandboxPolicy(
        system_links=tuple(links),
        system_dirs=tuple(dirs),
        readonly=_mounts(config.readonly, tuple(dirs)),
        hidden=hidden,
        network=config.network,
        privileged=os.geteuid() == 0,
    )


def probe(config: SandboxConfig, path: str | None = None) -> SandboxState:
    """Run a real sandbox once (``bwrap … true``): whether it can be made here, and why not."""
    policy = host_policy(config)
    bwrap = shutil.which(config.program, path=path or os.environ.get("PATH", os.defpath))
    if bwrap is None:
        return SandboxState(policy, None, "bubblewrap (bwrap) is not installed")
    try:
        done = subprocess.run(
            [*bwrap_argv(policy, None, bwrap), "true"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SandboxState(policy, None, f"bwrap could not be run: {exc}")
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        why = lines[-1] if lines else f"exit {done.returncode}"
        return SandboxState(policy, None, f"bwrap cannot make a sandbox here: {why[:300]}")
    return SandboxState(policy, bwrap)


# ---------------------------------------------------------------- who the job is, inside


@dataclass(frozen=True)
class Identity:
    """The user and group a task runs as (its owner's, or this server's)."""

    user: str
    uid: int
    group: str
    gid: int


def identity(run_as: RunAs | None) -> Identity:
    if run_as is not None:
        return Identity(run_as.user.name, run_as.user.uid, run_as.group.name, run_as.group.gid)
    uid, gid = os.getuid(), os.getgid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = f"user{uid}"
    return Identity(name, uid, name if uid else "root", gid)


def _safe(name: str, number: int, kind: str) -> str:
    return name if _NAME.match(name) else f"{kind}{number}"


def passwd_text(who: Identity, home: str) -> str:
    """``/etc/passwd`` inside the sandbox: root, nobody and the task's own user (never the host's accounts)."""
    lines = ["root:x:0:0:root:/root:/bin/bash", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"]
    if who.uid not in (0, 65534):
        home = home if ":" not in home and "\n" not in home else "/tmp"
        lines.append(f"{_safe(who.user, who.uid, 'user')}:x:{who.uid}:{who.gid}::{home}:/bin/bash")
    return "\n".join(lines) + "\n"


def group_text(who: Identity) -> str:
    lines = ["root:x:0:", "nogroup:x:65534:"]
    if who.gid not in (0, 65534):
        lines.append(f"{_safe(who.group, who.gid, 'group')}:x:{who.gid}:")
    return "\n".join(lines) + "\n"
