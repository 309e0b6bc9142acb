"""The local backend in the tests: a backend on a temporary root with a short spec "minute", jobs to hand it,
and bounded waits (real subprocesses; nothing outlives a test: see :func:`kill_leftovers`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aifactory.backends.local import LocalBackend
from aifactory.domain.jobs.execution import BackendJob, BackendStatus, Stream
from aifactory.domain.jobs.spec import parse_spec
from aifactory.domain.jobs.states import TERMINAL

MINUTE = 1.0  # how long a spec "minute" lasts here, so a 1-minute time limit fires fast
T = TypeVar("T")


def make(root: Path, gpu_slots: int = 0, **kw: Any) -> LocalBackend:
    kw.setdefault("minute_seconds", MINUTE)
    kw.setdefault("kill_grace_seconds", 1.0)
    return LocalBackend(root / "state", gpu_slots, **kw)


def job(root: Path, job_id: int, doc: dict[str, Any]) -> BackendJob:
    spec = parse_spec({"name": f"j{job_id}", "project": 7, **doc})
    return BackendJob(
        job_id=job_id,
        spec=spec,
        account="p7",
        partition="local",
        job_dir=str(root / "jobs" / str(job_id)),
        comment=f"aif:test:{job_id}",
    )


def wait_for(check: Callable[[], T], timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def final(backend: LocalBackend, backend_id: str, timeout: float = 15.0) -> BackendStatus:
    def over() -> BackendStatus | None:
        status = backend.status([backend_id])[backend_id]
        return status if status.state in TERMINAL else None

    return wait_for(over, timeout)


def read(backend: LocalBackend, backend_id: str, bj: BackendJob, stream: Stream = "stdout", task: int = 0) -> bytes:
    return backend.logs(backend_id, bj.job_dir, stream, 0, task=task).data


def wait_gate() -> str:
    """Shell that waits for a file ``gate`` in the job's own folder (all a sandboxed job sees of the host; the
    test opens it with :func:`open_gate`); bounded (20 s), so nothing outlives a killed test run."""
    return 'for n in $(seq 400); do [ -e "$AIF_JOB_DIR/gate" ] && break; sleep 0.05; done'


def open_gate(*jobs: BackendJob) -> None:
    for bj in jobs:
        (Path(bj.job_dir) / "gate").touch()


def started_at(root: Path, job_id: int, task: int = 0) -> float:
    """When the task started (from the executor's private record)."""
    return float(json.loads((private(root, job_id) / f"started-{task}").read_text())["started_at"])


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def job_processes(job_dir: str | Path) -> list[int]:
    """Host pids of the live processes that belong to the job: its wrapper and sandbox (their argv names the job
    folder) and everything inside (``AIF_JOB_DIR`` in their environment). Pids seen inside a sandbox are the
    sandbox's own; this looks from outside."""
    target = os.fsencode(str(job_dir))
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if Path(f"/proc/{entry.name}/stat").read_text().rpartition(")")[2].split()[0] in ("Z", "X"):
                continue
            argv = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
            env = Path(f"/proc/{entry.name}/environ").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        if target in argv or b"AIF_JOB_DIR=" + target in env:
            found.append(int(entry.name))
    return found


def backend_comments(data_dir: Path) -> list[str]:
    """The comments of the jobs a local executor on ``data_dir`` holds (from its private records)."""
    return [json.loads(p.read_text())["comment"] for p in (data_dir / "local-executor" / "tasks").glob("*/job.json")]


def private(root: Path, job_id: int) -> Path:
    """The executor's private folder of a job (``make``'s root is ``root / "state"``)."""
    return root / "state" / "tasks" / f"local-{job_id}"


def kill_leftovers(root: Path) -> None:
    """Whatever a test left running under ``root`` is killed (each task's pid file names its process group)."""
    for pid_file in root.glob("**/tasks/local-*/pid-*"):  # make()'s executor, or one in a data dir below root
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)
