"""How the local backend launches a task: its launch script, its environment, and the command around it (limits,
sandbox, the owner's identity; see ``sandbox``), decided once per task from the job's files and the settings.

The sandbox is probed for real at first use, never at import or construction (:meth:`Launcher.sandbox`).
"""

from __future__ import annotations

import os
import resource
import shlex
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.errors import InvalidInput
from ..domain.jobs.execution import BackendJob
from ..domain.jobs.spec import JobSpec
from . import launchers
from .local_files import LocalJob, TaskFiles
from .local_proc import Spawn, write
from .local_sandbox import Identity, SandboxConfig, SandboxState, group_text, identity, passwd_text, probe
from .local_tasks import Grant
from .sandbox import HOSTS, LAUNCH_FD, LAUNCHED_FD, Limits, Mount, TaskSandbox, bwrap_argv, task_argv
from .script import USER_SCRIPT, BatchContext, cd_line, command_line, environment

PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ")  # from the server's environment; nothing else of it
MIB = 1024 * 1024
LOW_NICE = 19  # niceness of a low-priority account's tasks


def launch_script(job: BackendJob) -> str:
    """The task's bash script (every user word quoted). A working directory that cannot be made or entered ends
    it before the user's command, and so does anything else before that line: only after it does the script
    report (descriptor 3) that the command was launched."""
    spec = job.spec
    inputs = tuple((i.env_key, i.path(job.job_dir)) for i in job.inputs)
    ctx = BatchContext(job.job_id, job.account, job.partition, job.job_dir, job.comment, inputs)
    if spec.launcher == "torchrun":  # one node: torchrun's standalone rendezvous
        prefix = launchers.container_prefix(
            spec.container_image, spec.container_binds, spec.resources.gpus_per_node > 0
        )
        nproc = f"--nproc-per-node={max(spec.resources.gpus_per_node, 1)}"
        run = shlex.join([*prefix, "torchrun", "--standalone", nproc, *(spec.command or ())])
    else:
        run = command_line(spec, job.job_dir, multi_node_wrapper=False)
    body = [
        "#!/bin/bash",
        f"# aifactory local backend, job {job.job_id}",
        "set -euo pipefail",
        f"exec {LAUNCH_FD}<&-",  # this script's own descriptor, not for the command
        *environment(spec, ctx, task_index='"${AIF_TASK_INDEX:-0}"'),
        f"{cd_line(spec.workdir, job.job_dir)} || exit",
        f"{{ printf 'launched\\n' >&{LAUNCHED_FD} && exec {LAUNCHED_FD}>&-; }} 2>/dev/null || true",
        run,
    ]
    return "\n".join(body) + "\n"


def _arg_strlen() -> int:
    """Linux's limit on one argument or environment string (MAX_ARG_STRLEN: 32 pages)."""
    return 32 * os.sysconf("SC_PAGE_SIZE")


def check_environment(spec: JobSpec) -> None:
    """The job's environment fits what the OS can pass to a program: each variable (and each grid parameter)
    under the per-string limit, all of them together well under ARG_MAX. Else nothing could start."""
    most = _arg_strlen()
    for key, value in spec.env.items():
        size = len(f"{key}={value}".encode()) + 1
        if size > most:
            raise InvalidInput.on(
                f"env.{key}", f"is {size} bytes; the operating system allows at most {most} bytes per variable"
            )
    params = spec.array.grid if spec.array else ()
    biggest = 0
    for values in params:
        sizes = [len(f"AIF_PARAM_{k}={v}".encode()) + 1 for k, v in values.items()]
        if any(size > most for size in sizes):
            raise InvalidInput.on("array.grid", f"a parameter value is over the OS's limit of {most} bytes")
        biggest = max(biggest, sum(sizes))
    total = biggest + sum(len(f"{k}={v}".encode()) + 1 + 8 for k, v in spec.env.items())
    budget = os.sysconf("SC_ARG_MAX") // 2  # the other half: the command's arguments, PATH, the gateway's variables
    if total > budget:
        raise InvalidInput.on("env", f"the environment is {total} bytes; at most {budget} bytes fit")


@dataclass(frozen=True)
class LimitsConfig:
    """The site's per-task limits (settings); memory comes from each spec, CPUs from the slots a task holds."""

    processes: int | None = 4096
    open_files: int | None = 65536

    def capped(self) -> tuple[int | None, int | None]:
        """The limits, never above the server's own hard limits (which no task may raise)."""
        return _cap(self.processes, resource.RLIMIT_NPROC), _cap(self.open_files, resource.RLIMIT_NOFILE)


def _cap(value: int | None, which: int) -> int | None:
    hard = resource.getrlimit(which)[1]
    return value if value is None or hard == resource.RLIM_INFINITY else min(value, hard)


@dataclass
class Launcher:
    """Builds each task's start (command, environment, log owner) from its job's files and the settings; probes
    the sandbox once, at first use."""

    sandbox_config: SandboxConfig = field(default_factory=SandboxConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    cpu_ids: Callable[[], list[int]] = lambda: sorted(os.sched_getaffinity(0))
    _state: SandboxState | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def sandbox(self) -> SandboxState:
        with self._lock:
            if self._state is None:
                self._state = probe(self.sandbox_config)
            return self._state

    @staticmethod
    def switches_user(job: LocalJob) -> bool:
        """Whether the task runs as its owner (the server is root and the job has one)."""
        return job.meta.run_as is not None and os.geteuid() == 0

    def prepare(self, job: BackendJob, state_dir: Path) -> None:
        """At submission: the job folder given to its owner (user, project group, 2770), and the task's
        ``/etc/passwd`` and ``/etc/group`` in the private folder."""
        who = identity(job.run_as)
        if job.run_as is not None and os.geteuid() == 0:
            folder = Path(job.job_dir)
            for path in (folder, folder / USER_SCRIPT):
                if path.exists():
                    os.chown(path, who.uid, who.gid, follow_symlinks=False)
            os.chmod(folder, 0o2770)
        files = (("passwd", passwd_text(who, job.job_dir)), ("group", group_text(who)), ("hosts", HOSTS))
        for name, text in files:
            write(state_dir / name, text)
            (state_dir / name).chmod(0o644)  # as /etc/passwd is (the folder around it stays closed)

    def command(self, job: LocalJob, task: TaskFiles, grant: Grant, server_env: Mapping[str, str]) -> Spawn:
        """The task's start, with its token left empty (``start`` fills it in)."""
        state, switch = self.sandbox(), self.switches_user(job)
        ids = self.cpu_ids() or [0]
        memory = job.meta.memory_mb * MIB if job.meta.memory_mb and not job.meta.gpus else None
        processes, open_files = self.limits.capped()
        limits = Limits(processes, open_files, memory, tuple(ids[s % len(ids)] for s in grant.cpus))
        sandbox = None
        if state.works:
            folder = Mount(os.path.realpath(job.dir), str(job.dir))
            hosts = None if state.policy.network else str(job.state / "hosts")
            inputs = tuple(Mount(os.path.realpath(p), p) for p in job.meta.inputs)  # read-only over the folder
            spec = TaskSandbox(
                folder, str(job.state / "passwd"), str(job.state / "group"), inputs, grant.gpus, switch, hosts
            )
            sandbox = bwrap_argv(state.policy, spec, state.bwrap or "bwrap")
        who = identity(job.meta.run_as if switch else None)
        return Spawn(
            state_dir=job.state,
            job_dir=job.dir,
            index=task.index,
            token="",
            stdout=task.log("stdout"),
            stderr=task.log("stderr"),
            argv=tuple(task_argv(limits, sandbox, job.meta.run_as if switch else None)),
            env=task_env(server_env, who, str(job.dir), task.index, grant.gpus),
            nice=LOW_NICE if grant.low_priority else 0,
            owner=(who.uid, who.gid) if switch else None,
        )


def task_env(
    server_env: Mapping[str, str], who: Identity, job_dir: str, index: int, gpus: tuple[int, ...]
) -> dict[str, str]:
    """A minimal environment (never the server's secrets): the job's own variables come from its launch script."""
    env = {k: server_env[k] for k in PASSED_ENV if k in server_env}
    env.setdefault("PATH", os.defpath)
    return env | {
        "HOME": job_dir,
        "USER": who.user,
        "LOGNAME": who.user,
        "SHELL": "/bin/bash",
        "TMPDIR": "/tmp",
        "AIF_TASK_INDEX": str(index),
        "CUDA_VISIBLE_DEVICES": ",".join(map(str, gpus)),
    }
