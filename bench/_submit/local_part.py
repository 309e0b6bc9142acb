"""The local part of ``bench/submit_throughput.py``: M trivial jobs through the gateway with the local backend,
in process and over HTTP, against a bare ``Popen(["true"]).wait()`` before and after."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _harness.report import logger, progress
from _harness.servers import APP, start_server

from .client import JobClient
from .common import gateway, job_doc, lat_stats, pi_actor, prepare_database, submit_server_env, uow_factory

TARGET_OVERHEAD_MS = 20.0  # local backend, per job
log = logger("submit_throughput")


def bare_spawn(n: int, label: str) -> list[float]:
    lat = []
    with progress() as bar:
        task = bar.add_task(label, total=n)
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.Popen(["true"]).wait()
            lat.append(time.perf_counter() - t0)
            bar.advance(task)
    return lat


def drain_local(root: Path, timeout: float = 60) -> int:
    """Poll the local executor until no task is active (so that nothing runs when the folder goes)."""
    from aifactory.backends.local import LocalBackend

    backend = LocalBackend(root, gpu_slots=0)
    deadline = time.monotonic() + timeout
    active = root / "active"
    while active.exists() and any(active.iterdir()) and time.monotonic() < deadline:
        backend.poll()
        time.sleep(0.05)
    return sum(1 for _ in active.iterdir()) if active.exists() else 0


def _row(phase: str, latencies: list[float]) -> dict[str, Any]:
    return {"phase": phase, "jobs": len(latencies), "elapsed_s": sum(latencies), **lat_stats(latencies)}


def in_process(m: int, stack: ExitStack, tmp: Path, failures: list[str]) -> list[float]:
    """``services.jobs.submit_job`` in this process, the real LocalBackend, a real SQLite store."""
    from aifactory.backends.local_proc import reap
    from aifactory.services import jobs as job_services
    from aifactory.services.ports import SystemClock

    url = f"sqlite:///{tmp / 'local.db'}"
    prepare_database(url)
    data_dir = tmp / "local-data"
    factory = uow_factory(url, stack)
    gw = gateway(url, data_dir, "local")
    stack.callback(lambda: (drain_local(data_dir / "local-executor"), reap()))
    actor, clock = pi_actor(factory), SystemClock()
    lat = []
    with progress() as bar:
        task = bar.add_task("services.jobs.submit_job (local)", total=m)
        for i in range(m):
            t0 = time.perf_counter()
            job = job_services.submit_job(factory, clock, actor, gw, job_doc(f"local-{i}"))
            lat.append(time.perf_counter() - t0)
            if job.backend_id is None:
                failures.append(f"local submit {i}: {job.state} {job.reason}")
            bar.advance(task)
    left = drain_local(data_dir / "local-executor")
    reap()
    if left:
        log(f"[yellow]{left} local tasks still active 60 s after the last submit[/yellow]")
    return lat


def over_http(m: int, stack: ExitStack, tmp: Path, failures: list[str]) -> list[float]:
    """``POST /api/v1/jobs`` against a uvicorn server with the local backend."""
    url = f"sqlite:///{tmp / 'local-api.db'}"
    fixture = prepare_database(url)
    data_dir = tmp / "local-api-data"
    env = submit_server_env(url, data_dir, "local", AIFACTORY_GPU_SLOTS="0")
    server = start_server("local-api", APP, env, 1, tmp, log)
    stack.callback(server.stop)
    stack.callback(lambda: drain_local(data_dir / "local-executor"))  # runs before server.stop (LIFO)
    client = JobClient(server.port, fixture.token)
    lat = []
    try:
        with progress() as bar:
            task = bar.add_task("POST /api/v1/jobs (local backend)", total=m)
            for i in range(m):
                res = client.submit(job_doc(f"local-api-{i}"))
                lat.append(res.latency_s)
                if not res.ok:
                    failures.append(f"local API submit {i}: HTTP {res.status} {res.state} {res.detail}")
                bar.advance(task)
    finally:
        client.close()
    return lat


def local_part(args: argparse.Namespace, stack: ExitStack, tmp: Path) -> dict[str, Any]:
    m = args.local_jobs
    failures: list[str] = []
    base_before = bare_spawn(m, "bare Popen(['true']).wait()")
    rows = [_row("bare spawn Popen+wait, before", base_before)]
    rows.append(_row("gateway submit_job (in process)", in_process(m, stack, tmp, failures)))
    rows.append(_row("gateway HTTP API (uvicorn)", over_http(m, stack, tmp, failures)))
    base_after = bare_spawn(m, "bare Popen(['true']).wait(), again")
    rows.append(_row("bare spawn Popen+wait, after", base_after))
    if failures:
        log(f"[red]{len(failures)} local submissions failed, e.g. {failures[0]}[/red]")
    baseline_ms = statistics.fmean([x * 1000 for x in base_before + base_after])
    overhead = {
        "baseline_spawn_ms": baseline_ms,
        "direct_ms": rows[1]["mean_ms"] - baseline_ms,
        "api_ms": rows[2]["mean_ms"] - baseline_ms,
    }
    for r in rows:
        r["jobs_per_s"] = r["jobs"] / r["elapsed_s"] if r["elapsed_s"] else 0.0
    return {
        "config": {"jobs": m, "gpu_slots": 0, "reconciler": "off"},
        "phases": rows,
        "overhead_per_job": overhead,
        "targets": {
            "overhead_ms_below": TARGET_OVERHEAD_MS,
            "direct_met": overhead["direct_ms"] < TARGET_OVERHEAD_MS,
            "api_met": overhead["api_ms"] < TARGET_OVERHEAD_MS,
        },
        "failures": failures[:5],
        "failed": len(failures),
    }
