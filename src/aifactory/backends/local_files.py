"""The local backend's files as typed records: a job's ``job.json`` (:class:`JobMeta`), and per task the files
that say where it stands (:class:`TaskFiles`: ``started-i``, ``pid-i``, ``exit-i``, ``kill-i``,
``final-i.json``, the logs). The JSON layout is what earlier versions wrote, so a restarted server carries on
with the jobs of the one before."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from ..domain.jobs.execution import Stream
from ..domain.jobs.states import TERMINAL, JobState
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

    def to_json(self) -> str:
        return json.dumps({**dataclasses.asdict(self), "indices": list(self.indices)}, indent=1)

    @classmethod
    def read(cls, path: Path) -> JobMeta | None:
        data = read_json(path)
        if not data:
            return None
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in fields}, "indices": tuple(data["indices"])})


@dataclass(frozen=True)
class Started:
    """``started-i``: created exclusively before the process starts (its GPU slots are then taken)."""

    started_at: float
    slots: tuple[int, ...] = ()
    token: str = ""  # the wrapper runs only while this token is in the file
    low_priority: bool = False

    def to_json(self) -> str:
        return json.dumps({**dataclasses.asdict(self), "slots": list(self.slots)})


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
    """The files of one task (array index ``index``) in a job folder."""

    dir: Path
    index: int

    def _path(self, prefix: str, suffix: str = "") -> Path:
        return self.dir / f"{prefix}-{self.index}{suffix}"

    @property
    def started_file(self) -> Path:
        return self._path("started")

    @property
    def exit_file(self) -> Path:
        return self._path("exit")

    def log(self, stream: Stream) -> Path:
        return self._path(stream, ".log")

    # ------------------------------------------------------------ reads

    def started(self) -> Started | None:
        data = read_json(self.started_file)
        if not data:
            return None
        return Started(
            data["started_at"], tuple(data.get("slots", ())), data.get("token", ""), data.get("low_priority", False)
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
    """A submitted job: its id, its folder and what was asked."""

    id: str
    dir: Path
    meta: JobMeta

    @property
    def tasks(self) -> list[TaskFiles]:
        return [TaskFiles(self.dir, i) for i in self.meta.indices]

    @property
    def cancel_marker(self) -> Path:
        """A job-wide marker: queued tasks do not start any more."""
        return self.dir / "cancel"

    @property
    def cancelled(self) -> bool:
        return self.cancel_marker.exists()

    def mark_cancelled(self, at: float) -> None:
        write(self.cancel_marker, json.dumps({"at": at}), exclusive=True)

    def states(self) -> dict[int, JobState]:
        return {task.index: task.state() for task in self.tasks}

    def write_state(self, state: JobState) -> None:
        """``state.json``: the aggregate, a convenience copy for people looking at the folder."""
        write(self.dir / "state.json", json.dumps({"state": state.value}))


def _int_in(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
