"""The local backend's files as typed records: a job's ``job.json`` (:class:`JobMeta`), and per task the files
that say where it stands (:class:`TaskFiles`: ``started-i``, ``pid-i``, ``exit-i``, ``launched-i``, ``kill-i``,
``final-i.json``). They live in the executor's private folder for the job (``<root>/tasks/<id>``), which no job
can see or write: a job cannot forge its exit code, its start time (what it is charged) or its time limit. Only
the logs (``stdout-i.log``, ``stderr-i.log``) are in the job's own folder."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.jobs.execution import Stream
from ..domain.jobs.states import TERMINAL, JobState
from ..domain.posix import PosixGroup, PosixUser, RunAs
from .local_proc import read_json, write


@dataclass(frozen=True)
class JobMeta:
    """``job.json``: what was asked, written once at submission."""

    backend_id: str
    job_id: int
    comment: str
    job_dir: str
    name: str
    indices: tuple[int, ...]
    max_parallel: int | None
    gpus: int  # per task
    time_minutes: int
    account: str
    submitted_at: float
    cpus: int = 1  # per task
    memory_mb: int | None = None  # per task, when the spec asks
    run_as: RunAs | None = None  # the job's owner (None: the server's own user)
    inputs: tuple[str, ...] = ()  # the staged inputs' paths (bound read-only in the sandbox)

    def to_json(self) -> str:
        data: dict[str, Any] = {**dataclasses.asdict(self), "indices": list(self.indices), "inputs": list(self.inputs)}
        return json.dumps(data, indent=1)

    @classmethod
    def read(cls, path: Path) -> JobMeta | None:
        data = read_json(path)
        if not data:
            return None
        fields = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in data.items() if k in fields}
        owner = known.get("run_as")
        if owner:
            known["run_as"] = RunAs(PosixUser(**owner["user"]), PosixGroup(**owner["group"]))
        return cls(**{**known, "indices": tuple(data["indices"]), "inputs": tuple(data.get("inputs", ()))})


@dataclass(frozen=True)
class Started:
    """``started-i``: created exclusively before the process starts (its GPU slots are then taken)."""

    started_at: float
    slots: tuple[int, ...] = ()
    token: str = ""  # the wrapper runs only while this token is in the file
    low_priority: bool = False
    cpus: tuple[int, ...] = ()  # the CPU slots it holds

    def to_json(self) -> str:
        return json.dumps({**dataclasses.asdict(self), "slots": list(self.slots), "cpus": list(self.cpus)})


@dataclass(frozen=True)
class Kill:
    """``kill-i``: why the task was signalled (the first reason wins), and when."""

    reason: JobState  # TIMEOUT or CANCELLED
    at: float


@dataclass(frozen=True)
class Final:
    """``final-i.json``: the settled task."""

    state: JobState
    exit_code: int | None = None
    ended_at: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class TaskFiles:
    """The files of one task (array index ``index``): its state in the private folder ``dir``, its logs in the
    job's folder ``logs``."""

    dir: Path
    logs: Path
    index: int

    def _path(self, prefix: str, suffix: str = "") -> Path:
        return self.dir / f"{prefix}-{self.index}{suffix}"

    @property
    def started_file(self) -> Path:
        return self._path("started")

    @property
    def exit_file(self) -> Path:
        return self._path("exit")

    @property
    def launched_file(self) -> Path:
        """Written (through a descriptor the wrapper opens) when the user's command starts."""
        return self._path("launched")

    def log(self, stream: Stream) -> Path:
        return self.logs / f"{stream}-{self.index}.log"

    # ------------------------------------------------------------ reads

    def started(self) -> Started | None:
        data = read_json(self.started_file)
        if not data:
            return None
        return Started(
            data["started_at"],
            tuple(data.get("slots", ())),
            data.get("token", ""),
            data.get("low_priority", False),
            tuple(data.get("cpus", ())),
        )

    def kill(self) -> Kill | None:
        data = read_json(self._path("kill"))
        return Kill(JobState(data["reason"]), data["at"]) if data else None

    def final(self) -> Final | None:
        data = read_json(self._path("final", ".json"))
        if not data:
            return None
        return Final(JobState(data["state"]), data.get("exit_code"), data.get("ended_at"), data.get("reason") or "")

    def pid(self) -> int | None:
        return _int_in(self._path("pid"))

    def exit_code(self) -> int | None:
        return _int_in(self.exit_file)

    def launched(self) -> bool:
        try:
            return self.launched_file.stat().st_size > 0
        except FileNotFoundError:
            return False

    def state(self) -> JobState:
        """What the files say, without side effects: final, running (started), or queued."""
        final = self.final()
        if final is not None:
            return final.state
        return JobState.RUNNING if self.started_file.exists() else JobState.QUEUED

    def over(self) -> bool:
        """Settled, or its command has ended (its exit code is written): nothing more goes to its logs."""
        return self.state() in TERMINAL or self.exit_file.exists()

    # ------------------------------------------------------------ writes

    def mark_started(self, started: Started) -> bool:
        """Created exclusively: False when the task was started already."""
        return write(self.started_file, started.to_json(), exclusive=True)

    def unmark_started(self) -> None:
        self.started_file.unlink(missing_ok=True)

    def mark_requeued(self) -> bool:
        """Once per task: False when it was queued again before."""
        return write(self._path("requeued"), "", exclusive=True)

    def mark_kill(self, kill: Kill) -> bool:
        return write(self._path("kill"), json.dumps({"reason": kill.reason.value, "at": kill.at}), exclusive=True)

    def write_pid(self, pid: int) -> None:
        write(self._path("pid"), f"{pid}\n")

    def write_final(self, final: Final) -> None:
        write(self._path("final", ".json"), json.dumps({**dataclasses.asdict(final), "state": final.state.value}))


@dataclass(frozen=True)
class LocalJob:
    """A submitted job: its id, its folder (``dir``, the job's), its private folder (``state``) and what was
    asked."""

    id: str
    dir: Path
    state: Path
    meta: JobMeta

    @property
    def tasks(self) -> list[TaskFiles]:
        return [TaskFiles(self.state, self.dir, i) for i in self.meta.indices]

    def task(self, index: int) -> TaskFiles:
        return TaskFiles(self.state, self.dir, index)

    @property
    def launch_script(self) -> Path:
        return self.state / "launch.sh"

    @property
    def cancel_marker(self) -> Path:
        """A job-wide marker: queued tasks do not start any more."""
        return self.state / "cancel"

    @property
    def cancelled(self) -> bool:
        return self.cancel_marker.exists()

    def mark_cancelled(self, at: float) -> None:
        write(self.cancel_marker, json.dumps({"at": at}), exclusive=True)

    def states(self) -> dict[int, JobState]:
        """Every task's state from one listing of the private folder (a 10,000-task array is one read, plus the
        final records of the settled tasks)."""
        try:
            names = set(os.listdir(self.state))
        except FileNotFoundError:
            names = set()
        out: dict[int, JobState] = {}
        for task in self.tasks:
            i = task.index
            final = task.final() if f"final-{i}.json" in names else None
            if final is not None:
                out[i] = final.state
            else:
                out[i] = JobState.RUNNING if f"started-{i}" in names else JobState.QUEUED
        return out

    def write_state(self, state: JobState) -> None:
        """``state.json``: the aggregate, a convenience copy for people looking at the folder."""
        write(self.state / "state.json", json.dumps({"state": state.value}))


def _int_in(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
