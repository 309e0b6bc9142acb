"""The sandbox every local job runs in: bubblewrap's argv, and the confinement around it, as pure functions.

A local task runs ``prlimit … -- taskset … -- bwrap … -- [setpriv …] -- bash /dev/fd/4``: resource limits and
CPU pinning first (inherited by everything after), then bubblewrap, then (when the server is root and the job
has an owner) the switch to the owner's uid and the project's gid, then the launch script, which the wrapper
hands over as file descriptor 4 (it lives in the executor's private folder, never visible by path).

Inside bubblewrap the task has its own PID, IPC and UTS namespaces and, by default, no network (only its own
loopback: the factory's PostgreSQL on 127.0.0.1 is out of reach); the system (``/usr`` and the merged-usr links)
and a minimal ``/etc`` read-only, with a ``passwd``/``group`` of its own; a fresh ``/proc``, a minimal ``/dev``
and private ``/tmp``; the Python environment jobs use and the operator's extra paths read-only; its inputs
read-only and its job folder read-write, both at their own paths. Nothing else of the host exists in it: not
the factory's data dir, database or configuration, not other jobs' folders. A hidden path that lies under a
bound one is masked (an empty read-only tmpfs, or ``/dev/null`` for a file); a bound path that lies inside a
hidden one is not bound at all. The sandbox's root (where the folders leading to the bound paths are made) is
read-only as well.

Everything here is pure (the host side, which resolves paths and probes bubblewrap, is ``local_sandbox``), so
the exact argv is tested as it is (``tests/backends/test_sandbox_argv.py``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from ..domain.posix import RunAs

LAUNCHED_FD = 3  # the launch script writes one line here when the user's command starts
LAUNCH_FD = 4  # the launch script itself, opened by the wrapper
LAUNCH = ("bash", f"/dev/fd/{LAUNCH_FD}")
HOSTNAME = "aifactory-job"
HOSTS = f"127.0.0.1\tlocalhost {HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
# a minimal /etc: the dynamic linker, time zone, name resolution, TLS roots, MIME types, fonts, Debian's
# alternatives (links such as /usr/bin/awk go through them). Never the factory's own configuration.
ETC = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/protocols",
    "/etc/services",
    "/etc/mime.types",
    "/etc/os-release",
    "/etc/debian_version",
    "/etc/ssl/certs",
    "/etc/ssl/openssl.cnf",
    "/etc/ca-certificates",
    "/etc/ca-certificates.conf",
    "/etc/fonts",
)
GPU_CONTROL_DEVICES = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset")
_MADE = frozenset({"/", "/usr", "/etc", "/tmp", "/var", "/var/tmp", "/proc", "/dev", "/sys", "/run"})


@dataclass(frozen=True)
class Mount:
    """A host path (``source``, symlinks resolved) bound at ``dest`` inside the sandbox."""

    source: str
    dest: str


@dataclass(frozen=True)
class Hidden:
    """A host path that must not be visible in the sandbox (symlinks resolved)."""

    path: str
    is_dir: bool


@dataclass(frozen=True)
class SandboxPolicy:
    """The site's sandbox, the same for every task (built by ``local_sandbox`` from the settings and the host)."""

    system_links: tuple[tuple[str, str], ...]  # ("/bin", "usr/bin"): merged-usr links, recreated as they are
    system_dirs: tuple[str, ...]  # "/usr", and /bin, /lib, ... where they are real folders
    readonly: tuple[Mount, ...]  # the Python environment and the operator's extra read-only paths
    hidden: tuple[Hidden, ...]  # the data dir, the database file: masked wherever they would show
    network: bool = False  # True: the host's network (weakens isolation; see docs/security.md)
    privileged: bool = False  # bwrap runs as root (no user namespace); False: unprivileged, in a user namespace


@dataclass(frozen=True)
class TaskSandbox:
    """What one task adds: its folder (read-write), its inputs (read-only), its identity files and GPUs."""

    job_dir: Mount
    passwd: str  # host files bound at /etc/passwd and /etc/group
    group: str
    inputs: tuple[Mount, ...] = ()
    gpus: tuple[int, ...] = ()  # the GPU slots it holds: /dev/nvidia<n> for each
    switch_user: bool = False  # setpriv runs inside (a root server, a job with an owner): keep SETUID/SETGID
    hosts: str | None = None  # bound at /etc/hosts without network: the sandbox's hostname is its loopback


@dataclass(frozen=True)
class Limits:
    """A task's resource limits (``prlimit``) and the CPUs it is pinned to (``taskset``)."""

    processes: int | None = None  # RLIMIT_NPROC: counted per Unix user (see docs/security.md)
    open_files: int | None = None  # RLIMIT_NOFILE
    memory_bytes: int | None = None  # RLIMIT_AS
    cpus: tuple[int, ...] = ()  # CPU ids; () = not pinned


def inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or lies under it (both absolute and normalized)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def visible_mounts(policy: SandboxPolicy) -> tuple[Mount, ...]:
    """The read-only mounts, without those inside a hidden path (they would show what must not be seen)."""
    return tuple(m for m in policy.readonly if not any(inside(m.source, h.path) for h in policy.hidden))


def masks(policy: SandboxPolicy, mounts: Iterable[Mount]) -> list[str]:
    """Arguments that cover each hidden path lying under a bound path, where it shows inside the sandbox."""
    args: list[str] = []
    for mount in mounts:
        for hidden in policy.hidden:
            if hidden.path != mount.source and inside(hidden.path, mount.source):
                at = posixpath.join(mount.dest, posixpath.relpath(hidden.path, mount.source))
                if hidden.is_dir:
                    args += ["--perms", "0755", "--tmpfs", at, "--remount-ro", at]
                else:  # an empty file to read (a device node needs a mount of its own: nodev elsewhere)
                    args += ["--dev-bind", "/dev/null", at]
    return args


def _parents(dest: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing parent of ``dest`` (mode 0755, so that the job's user may pass through)."""
    args: list[str] = []
    parts = dest.strip("/").split("/")[:-1]
    for n in range(1, len(parts) + 1):
        folder = "/" + "/".join(parts[:n])
        if folder not in made:
            made.add(folder)
            args += ["--perms", "0755", "--dir", folder]
    return args


def _bind(option: str, mounts: Iterable[Mount], made: set[str]) -> list[str]:
    args: list[str] = []
    for mount in mounts:
        args += [*_parents(mount.dest, made), option, mount.source, mount.dest]
        made.add(mount.dest)
    return args


def _between(folder: str, dest: str) -> list[str]:
    """The folders below ``folder`` that ``dest`` lies in."""
    parts = posixpath.relpath(dest, folder).split("/")[:-1]
    return [posixpath.join(folder, *parts[: n + 1]) for n in range(len(parts))]


def _namespaces(policy: SandboxPolicy, task: TaskSandbox | None) -> list[str]:
    args = ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not policy.network:  # a hostname of its own, which its /etc/hosts resolves to its loopback
        args += ["--unshare-net", "--hostname", HOSTNAME]
    if not policy.privileged:
        args += ["--unshare-user", "--disable-userns"]  # and no user namespaces of its own inside
    args += ["--die-with-parent", "--cap-drop", "ALL"]
    if task is not None and task.switch_user:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]  # for setpriv; dropped with the uid
    return args


def _system(policy: SandboxPolicy) -> list[str]:
    args: list[str] = []
    for folder in policy.system_dirs:
        args += ["--ro-bind", folder, folder]
    for link, target in policy.system_links:
        args += ["--symlink", target, link]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm"]
    args += ["--perms", "1777", "--tmpfs", "/tmp", "--perms", "1777", "--tmpfs", "/var/tmp"]
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in ETC:
        args += ["--ro-bind-try", path, path]
    return args


def _task(task: TaskSandbox, made: set[str]) -> list[str]:
    args = ["--ro-bind", task.passwd, "/etc/passwd", "--ro-bind", task.group, "/etc/group"]
    if task.hosts is not None:
        args += ["--ro-bind", task.hosts, "/etc/hosts"]
    if task.gpus:
        for device in (*GPU_CONTROL_DEVICES, *(f"/dev/nvidia{n}" for n in task.gpus)):
            args += ["--dev-bind-try", device, device]
        args += ["--ro-bind-try", "/sys", "/sys"]  # the NVIDIA libraries look up their devices there
    else:
        args += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    staged = [m for m in task.inputs if inside(m.dest, task.job_dir.dest)]  # <job folder>/inputs/<name>
    args += _bind("--ro-bind", [m for m in task.inputs if m not in staged], made)
    args += _bind("--bind", (task.job_dir,), made)
    for m in staged:  # the folders between: the job's own, there already
        made.update(p for p in _between(task.job_dir.dest, m.dest))
    return args + _bind("--ro-bind", staged, made)  # read-only on top of the read-write folder


def bwrap_argv(policy: SandboxPolicy, task: TaskSandbox | None, bwrap: str = "bwrap") -> list[str]:
    """bubblewrap's argv up to (and including) ``--``; the command follows. ``task`` None: the probe's."""
    made = set(_MADE)
    mounts = visible_mounts(policy)
    args = [bwrap, *_namespaces(policy, task), *_system(policy)]
    args += _bind("--ro-bind", mounts, made)
    args += masks(policy, (*(Mount(d, d) for d in policy.system_dirs), *mounts))
    if task is not None:
        args += _task(task, made)
    return [*args, "--remount-ro", "/", "--"]  # the sandbox's own root (the folders made above) read-only too


def limits_argv(limits: Limits) -> list[str]:
    """``prlimit`` and ``taskset`` words (empty when nothing is limited)."""
    words: list[str] = []
    if limits.processes is not None:
        words.append(f"--nproc={limits.processes}")
    if limits.open_files is not None:
        words.append(f"--nofile={limits.open_files}")
    if limits.memory_bytes is not None:
        words.append(f"--as={limits.memory_bytes}")
    argv = ["prlimit", *words, "--"] if words else []
    if limits.cpus:
        argv += ["taskset", "--cpu-list", ",".join(map(str, limits.cpus))]  # the command follows (taskset has no --)
    return argv


def setpriv_argv(run_as: RunAs) -> list[str]:
    """Become the job's owner (uid) with the project's group (gid) and no other groups, for good."""
    return [
        "setpriv",
        f"--reuid={run_as.user.uid}",
        f"--regid={run_as.group.gid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--no-new-privs",
        "--",
    ]


def task_argv(limits: Limits, sandbox: list[str] | None, run_as: RunAs | None) -> list[str]:
    """The whole command a task's wrapper runs: limits, the sandbox (None: none could be made), the owner's
    identity (only when the server may switch to it), the launch script."""
    return [*limits_argv(limits), *(sandbox or ()), *(setpriv_argv(run_as) if run_as else ()), *LAUNCH]
