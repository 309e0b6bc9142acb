"""Files and processes for the local backend: atomic writes, the task wrapper, process-group checks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# $1 the task's private folder, $2 its index, $3 the start token, $4 the job folder (it names the task in /proc);
# the rest is the command (limits, sandbox, launch; see ``sandbox.task_argv``). The trap lets bash outlive a
# SIGTERM long enough to record the exit code (a trap handler, unlike an ignored signal, is not inherited by the
# command). A wrapper whose token is no longer in ``started-i`` (its start was given up and the task queued
# again) runs nothing. The command gets the launch script as descriptor 4 and writes ``launched-i`` through
# descriptor 3 when the user's command starts: an exit without it is a launch failure, never the job's result.
WRAPPER = """trap 'true' TERM
s=$1 i=$2 t=$3; shift 4
grep -qF -- "$t" "$s/started-$i" 2>/dev/null || exit 0
printf '%s\\n' "$$" > "$s/pid-$i.w" && mv -f "$s/pid-$i.w" "$s/pid-$i"
"$@" 3>"$s/launched-$i" 4<"$s/launch.sh"; code=$?
printf '%s\\n' "$code" > "$s/exit-$i.w" && mv -f "$s/exit-$i.w" "$s/exit-$i"
"""
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # started by this process; polled only to reap zombies


@dataclass(frozen=True)
class Spawn:
    """One task's start: its private folder, job folder, logs, the command and the environment it runs with."""

    state_dir: Path
    job_dir: Path
    index: int
    token: str
    stdout: Path
    stderr: Path
    argv: tuple[str, ...]
    env: Mapping[str, str]
    nice: int = 0  # > 0: the wrapper (and so the task) runs under ``nice -n`` (nice execs: the pid stays)
    owner: tuple[int, int] | None = None  # uid, gid the log files are given to (the job's owner)


def open_log(path: Path, owner: tuple[int, int] | None) -> int:
    """A log file in the job's folder, opened for appending by the server: never through a symlink, a FIFO or a
    hard link the job planted there (the job owns that folder)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags, 0o640)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise OSError(f"{path.name} is not a plain file")
        if owner is not None and (info.st_uid, info.st_gid) != owner:
            os.fchown(fd, *owner)
        return fd
    except BaseException:
        os.close(fd)
        raise


def spawn(task: Spawn) -> int:
    """Start the task detached (own session and process group); its pid is the group id."""
    prefix = ["nice", "-n", str(int(task.nice))] if task.nice else []
    words = [str(task.state_dir), str(task.index), task.token, str(task.job_dir), *task.argv]
    out = open_log(task.stdout, task.owner)
    try:
        err = open_log(task.stderr, task.owner)
        try:
            proc = subprocess.Popen(
                [*prefix, "bash", "-c", WRAPPER, "aif-task", *words],
                cwd=task.state_dir,
                env=dict(task.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        finally:
            os.close(err)
    finally:
        os.close(out)
    _CHILDREN[proc.pid] = proc
    return proc.pid


def reap() -> None:
    for pid, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[pid]


def write(path: Path, text: str, *, exclusive: bool = False) -> bool:
    """Atomic write (temp file + rename); ``exclusive``: only if ``path`` does not exist (False if it did)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    if not exclusive:
        os.replace(tmp, path)
        return True
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def group_members(pgid: int, job_dir: str, *, every: bool = False) -> list[int]:
    """Live (non-zombie) processes of the task's process group that are really this task's: the wrapper
    (its argv names the job dir) or a process with ``AIF_JOB_DIR=<job dir>`` in its environment, so a
    reused pid is never mistaken for the task. Unless ``every``, a live wrapper is enough to know (no scan)."""
    reap()
    if not Path("/proc/self").exists():  # no procfs: best effort
        try:
            os.kill(pgid, 0)
            return [pgid]
        except (ProcessLookupError, PermissionError):
            return []
    members = []
    for pid in _candidates(pgid):
        proc = Path(f"/proc/{pid}")
        try:
            fields = (proc / "stat").read_text().rpartition(")")[2].split()
            if fields[0] in ("Z", "X") or int(fields[2]) != pgid:
                continue
            ours = is_ours((proc / "cmdline").read_bytes(), (proc / "environ").read_bytes, job_dir)
        except (OSError, IndexError, ValueError):
            continue
        if ours:
            members.append(pid)
            if pid == pgid and not every:
                return members
    return members


def terminate(pgid: int, job_dir: str) -> None:
    """SIGTERM to every process of the task except bubblewrap's own: bubblewrap dies of a SIGTERM, and its
    ``--die-with-parent`` then SIGKILLs the whole sandbox at once, so the command would get no grace. The
    SIGKILL after the grace (:func:`kill_group`) takes bubblewrap, and with it whatever the sandbox still holds."""
    for pid in group_members(pgid, job_dir, every=True):
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
        except OSError:
            continue
        if os.path.basename(argv0) != b"bwrap":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)


def is_ours(cmdline: bytes, environ: Callable[[], bytes], job_dir: str) -> bool:
    """A process of the task's group is the task's when its argv names the job dir (the wrapper) or its
    environment holds ``AIF_JOB_DIR=<job dir>``. An empty argv is a process inside execve (Popen returns, and
    the server polls, while the kernel is still setting up the new program): the wrapper a moment after its
    start. It counts, or a task would be settled as gone while it starts."""
    if not cmdline or os.fsencode(job_dir) in cmdline.split(b"\0"):
        return True
    return b"AIF_JOB_DIR=" + os.fsencode(job_dir) in environ().split(b"\0")


def _candidates(pgid: int) -> Iterator[int]:
    """The group leader first (the common case costs one look), then every other process."""
    yield pgid
    yield from (int(e.name) for e in os.scandir("/proc") if e.name.isdigit() and e.name != str(pgid))


def kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
