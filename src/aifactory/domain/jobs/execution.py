"""What the job gateway and a backend exchange: plain values, no I/O.

The services hand a backend a :class:`BackendJob` and read back :class:`BackendStatus`, :class:`LogChunk`,
:class:`Usage` and :class:`ExternalUsage`; the backends (adapters) import these from here, so neither side
depends on the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from ..posix import RunAs
from .spec import JobSpec
from .states import JobState

WORK_SUBDIR = "work"  # a job without a workdir of its own runs in <job_dir>/work (its files apart from ours)

Stream = Literal["stdout", "stderr"]


INPUTS_SUBDIR = "inputs"  # a job's inputs are staged read-only in <job_dir>/inputs/<name>


@dataclass(frozen=True)
class StagedInput:
    """An input resolved by the gateway: ``source`` is the server's path of the file (or folder) the job reads
    read-only (empty: it no longer resolves); the backend stages it at :meth:`path` and sets
    ``AIF_INPUT_<NAME>`` to it."""

    name: str
    source: str
    folder: bool = False

    @property
    def env_key(self) -> str:
        return f"AIF_INPUT_{self.name.upper()}"

    def path(self, job_dir: str) -> str:
        """``<job_dir>/inputs/<name>/<the file's own name>`` (its suffix tells CSV from Parquet), or for a
        folder ``<job_dir>/inputs/<name>``."""
        top = f"{job_dir}/{INPUTS_SUBDIR}/{self.name}"
        return top if self.folder or not self.source else f"{top}/{PurePosixPath(self.source).name}"


@dataclass(frozen=True)
class BackendJob:
    """What the gateway hands a backend: the validated spec plus the gateway's own decisions."""

    job_id: int
    spec: JobSpec
    account: str  # the project's Slurm account (or local equivalent)
    partition: str  # the resource's name
    job_dir: str  # absolute per-job folder (logs, scripts, outputs)
    comment: str  # marks the job as ours, so a restart can find it by comment
    # who the job runs as (its owner, the project's group); None: the server's own identity (single-tenant setups)
    run_as: RunAs | None = None
    inputs: tuple[StagedInput, ...] = ()  # resolved by the gateway (services.job_inputs), staged by the backend

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
