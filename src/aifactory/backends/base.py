"""The backend protocol, its value types, the command-runner seam and the backend registry.

A backend does scheduler I/O only: submit / status / cancel over lists of ids, logs, usage, and project
provisioning. Policy (who may submit, budgets, retries) lives in the services. Backends get their
collaborators in ``__init__`` and do no I/O there.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from ..domain.errors import InvalidInput
from ..domain.jobs.spec import JobSpec
from ..domain.jobs.states import JobState

WORK_SUBDIR = "work"  # a job without a workdir of its own runs in <job_dir>/work (its files apart from ours)


def cd_line(workdir: str | None, job_dir: str) -> str:
    """The shell line that enters the job's working directory (the default one is created)."""
    if workdir:
        return f"cd {shlex.quote(workdir)}"
    default = shlex.quote(f"{job_dir}/{WORK_SUBDIR}")
    return f"mkdir -p {default} && cd {default}"


@dataclass(frozen=True)
class BackendJob:
    """What the gateway hands a backend: the validated spec plus the gateway's own decisions."""

    job_id: int
    spec: JobSpec
    account: str  # the project's Slurm account (or local equivalent)
    partition: str  # the resource's name
    job_dir: str  # absolute per-job folder (logs, scripts, outputs)
    comment: str  # marks the job as ours, so a restart can find it by comment

    @property
    def tasks(self) -> int:
        return self.spec.tasks


@dataclass(frozen=True)
class BackendStatus:
    state: JobState
    exit_code: int | None = None
    reason: str = ""
    tasks: Mapping[int, JobState] = field(default_factory=dict)  # array index -> state, when known


@dataclass(frozen=True)
class LogChunk:
    data: bytes
    offset: int  # where the next read starts
    complete: bool  # the job is over and nothing more will be written


@dataclass(frozen=True)
class Usage:
    """What a job consumed, as the backend measured it."""

    elapsed_seconds: int
    gpus: int
    nodes: int
    cpus: int = 0
    started_at: float | None = None  # POSIX timestamps
    ended_at: float | None = None


@dataclass(frozen=True)
class ExternalUsage:
    """One finished job as the scheduler's accounting saw it, whoever submitted it and however (the gateway,
    or ``sbatch`` directly): what the ledger imports and charges. An array task is its own record."""

    backend_id: str  # "1234", or "1234_5" for task 5 of array 1234
    account: str
    partition: str
    user: str
    comment: str  # "aif:<site>:<id>:<nonce>" for the gateway's jobs, else whatever the user wrote (or "")
    state: JobState
    start: float | None  # POSIX timestamps; None when it never started
    end: float | None
    elapsed_seconds: int
    nodes: int
    gpus: int  # gres/gpu allocated to the whole job (all nodes)
    cpus: int
    memory_mb: int
    time_limit_seconds: int | None  # None: no limit known


@dataclass(frozen=True)
class ProjectAccount:
    account: str
    users: tuple[str, ...] = ()


Stream = Literal["stdout", "stderr"]


class Backend(Protocol):
    """What every backend does. Optional accounting methods, for the ledger (look them up with ``getattr``;
    the local backend has only ``set_low_priority``, the Slurm backend all four):

    ``finished_jobs(accounts: Sequence[str], since: float) -> list[ExternalUsage]``
        every finished job of those accounts since a POSIX time, any user, also jobs not submitted here;
    ``set_budget_limit(account: str, gpu_minutes: int | None) -> None``
        a hard GPU-minute limit the scheduler enforces itself (None clears it); idempotent;
    ``account_gpu_minutes_used(account: str) -> int``
        the scheduler's own usage counter that limit is compared with (limit = used + what is still allowed);
    ``set_low_priority(account: str, low: bool) -> None``
        the account's new jobs run after everyone else's (``low``) or normally again; idempotent.
    """

    name: ClassVar[str]

    def submit(self, job: BackendJob) -> str: ...
    def status(self, ids: Sequence[str]) -> dict[str, BackendStatus]: ...
    def cancel(self, ids: Sequence[str]) -> None: ...
    def logs(
        self, backend_id: str, job_dir: str, stream: Stream, offset: int = 0, *, task: int = 0, limit: int = 1 << 20
    ) -> LogChunk: ...
    def usage(self, ids: Sequence[str]) -> dict[str, Usage]: ...
    def find_by_comment(self, comment: str) -> str | None: ...
    def ensure_project(self, account: ProjectAccount) -> None: ...


# ---------------------------------------------------------------- the one seam for shell calls


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class CommandError(Exception):
    def __init__(self, result: CommandResult):
        self.result = result
        err = (result.stderr or result.stdout).strip().splitlines()
        super().__init__(f"{result.argv[0]} exited {result.returncode}: {err[-1] if err else 'no output'}")


class CommandRunner(Protocol):
    def __call__(self, argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult: ...


def run_command(argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult:
    """Runs argv without a shell. Every backend's process I/O goes through a runner like this one."""
    proc = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=timeout, check=False)
    return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


def checked(runner: CommandRunner, argv: Sequence[str], **kw: object) -> CommandResult:
    result = runner(argv, **kw)  # type: ignore[arg-type]
    if result.returncode != 0:
        raise CommandError(result)
    return result


# ---------------------------------------------------------------- registry


BackendFactory = Callable[..., Backend]
_REGISTRY: dict[str, str] = {  # name -> "module:Class", imported on demand
    "local": "aifactory.backends.local:LocalBackend",
    "slurm": "aifactory.backends.slurm.backend:SlurmBackend",
}


def backend_class(name: str) -> BackendFactory:
    """The backend class for a name; the error lists the valid names."""
    target = _REGISTRY.get(name)
    if target is None:
        raise InvalidInput.on("backend", f"unknown backend {name!r} (valid: {', '.join(sorted(_REGISTRY))})")
    module_name, _, cls_name = target.partition(":")
    module = __import__(module_name, fromlist=[cls_name])
    return getattr(module, cls_name)
