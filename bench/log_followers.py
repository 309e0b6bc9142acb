#!/usr/bin/env python
"""Live-log followers on the real local Slurm: scheduler calls and CPU with N followers, before and after
they share the reconciler's status -- both measured in the same run.

One Slurm job prints a line a second; N followers (default 30) each read its log every 0.5 s (the live-log
stream's POLL_SECONDS) for T seconds (default 20), while a reconciler thread makes its one batched status
call every 2 s and publishes it (what ``services.jobs.reconcile`` does), in this process.
  before  each follower asks the scheduler itself whether the job is over, as ``SlurmBackend.logs`` did
          until issue 11: ``squeue --json`` + ``sacct --json`` per read that reaches the end of the log
  after   ``SlurmBackend.logs`` as it is: the job's end comes from the backend's status board
          (``services.status_board``): the reconciler's last report, or one poll shared by all followers
Counted: scheduler commands run (at the backend's command runner), CPU seconds of this process and of the
commands it ran (getrusage, self + children), and CPU of slurmctld and slurmdbd (/proc). Printed: calls/s,
CPU as a share of one core, and the ratios before/after.

Run (from the repository root)::

    .venv/bin/python bench/log_followers.py [--followers 30] [--seconds 20] [--json FILE]

The cluster is started with ``scripts/slurm-dev-cluster start`` when it does not answer; the job is cancelled
on every exit (Ctrl-C and SIGTERM included).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _harness.cpu import process_cpu_seconds
from _harness.report import logger, run_main, stdout_console, write_json
from _submit.cluster import ensure_cluster, sh
from aifactory.backends.base import CommandResult, run_command
from aifactory.backends.logfiles import read_chunk
from aifactory.backends.slurm.backend import SlurmBackend
from aifactory.domain.jobs.execution import BackendJob
from aifactory.domain.jobs.spec import parse_spec
from aifactory.services.gateway import Gateway
from aifactory.services.job_outputs import LogSource
from aifactory.services.status_board import task_over

log = logger("log_followers")
REPO = Path(__file__).resolve().parents[1]
SLURM_DIR = Path(os.environ.get("AIFACTORY_SLURM_DIR", "/var/lib/aifactory-slurm"))
ACCOUNT = os.environ.get("AIFACTORY_SLURM_TEST_ACCOUNT", "aifactory-test")
POLL_SECONDS = 0.5  # api.logstream.POLL_SECONDS
RECONCILE_SECONDS = 2.0  # AIFACTORY_RECONCILE_SECONDS' default


class CountingRunner:
    """The backend's command runner, counting each command by name (thread-safe)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> CommandResult:
        with self._lock:
            self.calls[argv[0]] += 1
        return run_command(argv, input=input, timeout=timeout)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _daemons_cpu() -> float:
    total = 0.0
    for name in ("slurmctld", "slurmdbd"):
        pid_file = SLURM_DIR / "run" / f"{name}.pid"
        if pid_file.exists():
            total += process_cpu_seconds(int(pid_file.read_text().strip()))
    return total


def _start_job(gw: Gateway, job_dir: Path, seconds: float) -> str:
    code = f"import time\nfor i in range({int(seconds) + 120}):\n    print('line', i, flush=True); time.sleep(1)"
    document = {"name": "chatty", "project": 1, "command": [sys.executable, "-c", code], "resources": {"time": 10}}
    job = BackendJob(
        job_id=1,
        spec=parse_spec(document),
        account=ACCOUNT,
        partition="booster",
        job_dir=str(job_dir),
        comment=f"aif:bench:logs:{os.getpid()}",
    )
    backend_id = gw.backend.submit(job)
    deadline = time.monotonic() + 60
    while (status := gw.backend.status([backend_id]).get(backend_id)) is None or status.state.value != "running":
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {backend_id} did not start within 60 s (last status: {status})")
        time.sleep(0.5)
    return backend_id


def _polling_follower(backend: SlurmBackend, backend_id: str, job_dir: Path) -> Callable[[int], int]:
    """A read as a follower made it before: its own status call whenever it reached the end of the log."""

    def over() -> bool:
        return task_over(backend.status([backend_id]).get(backend_id), 0)

    def read(offset: int) -> int:
        return read_chunk(job_dir / f"stdout-{backend_id}.log", offset, 1 << 20, over).offset

    return read


def _phase(gw: Gateway, read: Callable[[int], int], backend_id: str, args: argparse.Namespace) -> dict[str, Any]:
    """N followers and the reconciler for ``args.seconds``; what it cost."""
    runner = gw.backend.client.runner  # type: ignore[attr-defined]
    assert isinstance(runner, CountingRunner)
    stop = threading.Event()

    def follower() -> None:
        offset = 0
        while not stop.is_set():
            offset = read(offset)
            stop.wait(POLL_SECONDS)

    def reconciler() -> None:
        while not stop.is_set():
            gw.backend.status([backend_id])  # the reconciler's batched call (it publishes what it saw)
            stop.wait(RECONCILE_SECONDS)

    threads = [threading.Thread(target=follower) for _ in range(args.followers)]
    threads.append(threading.Thread(target=reconciler))
    runner.calls.clear()
    cpu0, daemons0, t0 = _cpu(), _daemons_cpu(), time.monotonic()
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    cpu, daemons = _cpu() - cpu0, _daemons_cpu() - daemons0
    calls = sum(runner.calls.values())
    return {
        "seconds": round(wall, 2),
        "scheduler_calls": calls,
        "by_command": dict(runner.calls),
        "calls_per_second": round(calls / wall, 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_share_of_a_core": round(cpu / wall, 3),
        "slurm_daemons_cpu_seconds": round(daemons, 2),
    }


def _report(fig: dict[str, Any]) -> None:
    out = stdout_console(100)
    out.print(f"[bold]{fig['followers']} log followers for {fig['seconds']} s on Slurm job {fig['job']}[/bold]")
    out.print(f"{'':8} {'scheduler calls':>16} {'calls/s':>8} {'CPU s':>7} {'of a core':>10} {'slurm daemons s':>16}")
    for mode in ("before", "after"):
        p = fig[mode]
        out.print(
            f"{mode:8} {p['scheduler_calls']:>16} {p['calls_per_second']:>8} {p['cpu_seconds']:>7} "
            f"{p['cpu_share_of_a_core']:>10.1%} {p['slurm_daemons_cpu_seconds']:>16}   {p['by_command']}"
        )
    r = fig["ratio_before_over_after"]
    out.print(f"before / after: scheduler calls x{r['scheduler_calls']}, CPU x{r['cpu']}, daemons x{r['daemons']}")


def _ratio(a: float, b: float) -> float | str:
    return round(a / b, 1) if b else "inf"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--followers", type=int, default=30, help="concurrent followers (30)")
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds per phase (20)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = ap.parse_args(argv)
    ensure_cluster(REPO, log)
    with tempfile.TemporaryDirectory(prefix="aifactory-logs-bench-") as tmp:
        Path(tmp).chmod(0o755)
        backend = SlurmBackend(CountingRunner())
        gw = Gateway(backend=backend, backend_name="slurm", site="bench", jobs_root=Path(tmp))
        backend_id = _start_job(gw, Path(tmp) / "1", args.seconds)
        try:
            log(f"job {backend_id} runs; {args.followers} followers for {args.seconds:.0f} s, before then after")
            job_dir = str(Path(tmp) / "1")
            source = LogSource(gw, 1, backend_id, job_dir, "stdout", 0, False)
            before = _phase(gw, _polling_follower(backend, backend_id, Path(job_dir)), backend_id, args)
            after = _phase(gw, lambda offset: source.read(offset).offset, backend_id, args)
        finally:
            sh(["scancel", backend_id])
    fig = {"followers": args.followers, "seconds": args.seconds, "job": backend_id, "before": before, "after": after}
    fig["ratio_before_over_after"] = {
        "scheduler_calls": _ratio(before["scheduler_calls"], after["scheduler_calls"]),
        "cpu": _ratio(before["cpu_seconds"], after["cpu_seconds"]),
        "daemons": _ratio(before["slurm_daemons_cpu_seconds"], after["slurm_daemons_cpu_seconds"]),
    }
    _report(fig)
    if args.json:
        write_json(args.json, fig, log)
    return 0


if __name__ == "__main__":
    run_main(main, log, "interrupted; the job was cancelled")
