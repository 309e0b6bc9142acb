"""The local backend in the tests: a backend on a temporary root with a short spec "minute", jobs to hand it,
and bounded waits (real subprocesses; nothing outlives a test: see :func:`kill_leftovers`)."""

from __future__ import annotations

import contextlib
import os
import shlex
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


def wait_gate(gate: Path) -> str:
    """Shell that waits for ``gate`` to exist; bounded (20 s), so nothing outlives a killed test run."""
    return f"for n in $(seq 400); do [ -e {shlex.quote(str(gate))} ] && break; sleep 0.05; done"


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def kill_leftovers(root: Path) -> None:
    """Whatever a test left running under ``root`` is killed (each task's pid file names its process group)."""
    for pid_file in root.glob("jobs/*/pid-*"):
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)
