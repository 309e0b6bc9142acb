"""Files and processes for the local backend: atomic writes, the task wrapper, process-group checks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# $1 job dir, $2 task index, $3 the start token. The trap lets bash outlive a SIGTERM long enough to record the
# exit code (a trap handler, unlike an ignored signal, is not inherited by the command). A wrapper whose token is
# no longer in ``started-i`` (its start was given up and the task queued again) runs nothing.
WRAPPER = """trap 'true' TERM
grep -qF -- "$3" "$1/started-$2" 2>/dev/null || exit 0
printf '%s\\n' "$$" > "$1/pid-$2.w" && mv -f "$1/pid-$2.w" "$1/pid-$2"
bash "$1/launch.sh"; code=$?
printf '%s\\n' "$code" > "$1/exit-$2.w" && mv -f "$1/exit-$2.w" "$1/exit-$2"
"""
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # started by this process; polled only to reap zombies


def spawn(job_dir: Path, index: int, token: str, env: dict[str, str], nice: int = 0) -> int:
    """Start task ``index`` detached (own session and process group); its pid is the group id. ``nice`` > 0:
    the wrapper (and so the task) runs under ``nice -n`` (nice execs bash: the pid stays the same)."""
    prefix = ["nice", "-n", str(int(nice))] if nice else []
    with open(job_dir / f"stdout-{index}.log", "ab") as out, open(job_dir / f"stderr-{index}.log", "ab") as err:
        proc = subprocess.Popen(
            [*prefix, "bash", "-c", WRAPPER, "aif-task", str(job_dir), str(index), token],
            cwd=job_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
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


def group_members(pgid: int, job_dir: str) -> list[int]:
    """Live (non-zombie) processes of the task's process group that are really this task's: the wrapper
    (its argv names the job dir) or a process with ``AIF_JOB_DIR=<job dir>`` in its environment, so a
    reused pid is never mistaken for the task."""
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
            if pid == pgid:
                return members  # the wrapper lives: enough to know, no full scan
    return members


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
