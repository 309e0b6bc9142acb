"""One local task's life, from its files and its process group: start it, settle it when its process is
over, enforce its time limit, queue it again when its start was interrupted, signal it.

Every step reads the files first and writes what it decided before it acts, so a server killed between any
two steps finds the task where it left it (see ``backends.local``).
"""

from __future__ import annotations

import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass

from ..domain.jobs.states import JobState
from .local_files import Final, Kill, LocalJob, Started, TaskFiles
from .local_proc import Spawn, group_members, kill_group, spawn, terminate

LAUNCH_REASON_CHARS = 300


@dataclass(frozen=True)
class Timing:
    minute_seconds: float = 60.0  # how long a spec "minute" lasts (tests shorten it)
    kill_grace_seconds: float = 30.0  # SIGTERM -> SIGKILL
    start_grace_seconds: float = 10.0  # started-i without a live pid: still starting


@dataclass(frozen=True)
class Grant:
    """What a task is given to run on: CPU slots, GPU slots, and whether it runs at low priority."""

    cpus: tuple[int, ...] = ()
    gpus: tuple[int, ...] = ()
    low_priority: bool = False


def start(job: LocalJob, task: TaskFiles, grant: Grant, now: float, command: Callable[[str], Spawn]) -> bool:
    """Mark the task started (exclusively: False if it was) and spawn ``command(token)``; a start that fails
    settles the task as failed with the reason (it is not retried)."""
    token = secrets.token_hex(8)
    if not task.mark_started(Started(now, grant.gpus, token, grant.low_priority, grant.cpus)):
        return False
    try:
        pid = spawn(command(token))
    except OSError as exc:  # e.g. the job folder vanished, a log file the job replaced by a link
        task.write_final(Final(JobState.FAILED, ended_at=now, reason=f"the job could not be started: {exc}"))
        return False
    task.write_pid(pid)  # the wrapper writes it too (covers a crash right here)
    return True


@dataclass(frozen=True)
class _Seen:
    """A started task as its files and its process group show it, read in this order: the exit code after
    the members, so a wrapper gone has written its code."""

    started_at: float
    kill: Kill | None
    pid: int | None
    members: list[int]
    code: int | None
    starting: bool  # no pid yet, within the start grace

    @property
    def never_ran(self) -> bool:
        return self.pid is None and self.code is None and not self.starting and self.kill is None

    @property
    def alive(self) -> bool:
        """Its command still runs; a killed task counts until every process of its group is gone."""
        return (self.code is None or self.kill is not None) and (bool(self.members) or self.starting)


def _look(job: LocalJob, task: TaskFiles, now: float, timing: Timing) -> _Seen:
    started = task.started()
    started_at = started.started_at if started is not None else now
    kill = task.kill()
    pid = task.pid()
    members = group_members(pid, str(job.dir)) if pid is not None else []
    code = task.exit_code()
    starting = pid is None and now - started_at < timing.start_grace_seconds
    return _Seen(started_at, kill, pid, members, code, starting)


def settle(job: LocalJob, task: TaskFiles, now: float, timing: Timing) -> JobState:
    """For a started task: record it final when its process is over; enforce its time limit."""
    state = task.state()
    if state is not JobState.RUNNING:
        return state
    seen = _look(job, task, now, timing)
    if seen.never_ran:
        return requeue(task)
    if seen.alive:
        _enforce_limits(job, task, seen, now, timing)
        return JobState.RUNNING
    return _finish(task, seen, now)


def _enforce_limits(job: LocalJob, task: TaskFiles, seen: _Seen, now: float, timing: Timing) -> None:
    """SIGTERM at the time limit; SIGKILL a signalled task still there after the grace."""
    if seen.kill is None and now - seen.started_at > job.meta.time_minutes * timing.minute_seconds:
        signal_task(job, task, JobState.TIMEOUT, now)
    elif seen.kill is not None and seen.pid is not None and now - seen.kill.at >= timing.kill_grace_seconds:
        kill_group(seen.pid, signal.SIGKILL)


def _finish(task: TaskFiles, seen: _Seen, now: float) -> JobState:
    """The command is over: what it left behind goes too (as in Slurm), and the outcome is written."""
    if seen.members and seen.pid is not None:
        kill_group(seen.pid, signal.SIGKILL)
    reason = ""
    if seen.kill is not None:
        state = seen.kill.reason
    elif seen.code is None:
        state, reason = JobState.FAILED, "the task ended without an exit code"
    elif not task.launched():
        state, reason = JobState.FAILED, launch_failure(task, seen.code)
    else:
        state = JobState.COMPLETED if seen.code == 0 else JobState.FAILED
    ended = task.exit_file.stat().st_mtime if task.exit_file.exists() else now
    task.write_final(Final(state, seen.code, ended, reason))
    return state


def launch_failure(task: TaskFiles, code: int) -> str:
    """Why the user's command never started (the sandbox, the working directory, an environment too large for
    the OS): the last line its launch wrote to stderr."""
    try:
        with task.log("stderr").open("rb") as fh:
            fh.seek(max(0, fh.seek(0, 2) - 4096))
            lines = fh.read().decode(errors="replace").strip().splitlines()
    except OSError:
        lines = []
    said = f": {lines[-1][:LAUNCH_REASON_CHARS]}" if lines else ""
    return f"the job could not be launched (exit {code}){said}"


def requeue(task: TaskFiles) -> JobState:
    """A task marked started whose wrapper never wrote its pid never ran (the server died between the two,
    or was killed with its process group before the child left it): queue it again, once. A late wrapper
    finds its token gone from ``started-i`` and runs nothing."""
    if not task.mark_requeued():
        task.write_final(Final(JobState.FAILED, reason="the task could not be started"))
        return JobState.FAILED
    task.unmark_started()
    return JobState.QUEUED


def signal_task(job: LocalJob, task: TaskFiles, reason: JobState, now: float) -> None:
    """Record why (first reason wins), then SIGTERM the task's processes (bubblewrap's own excepted)."""
    task.mark_kill(Kill(reason, now))
    pid = task.pid()
    if pid is not None:
        terminate(pid, str(job.dir))
