#!/usr/bin/env python
"""Job submission throughput: the gateway against raw ``sbatch`` on the real local Slurm, and the gateway's
per-job overhead with the local backend -- every figure and ratio measured in the same run.

Slurm part (needs the local cluster; ``scripts/slurm-dev-cluster start`` is run when it does not answer)
    A real ``aifactory`` API served by uvicorn on 127.0.0.1 (AIFACTORY_BACKEND=slurm, a fresh demo-seeded
    SQLite database in a temporary folder, the reconciler off). Jobs are trivial: ``true``, 1 minute, no GPU,
    partition ``booster``, in project 1 (the bakery PI's playground allocation).
      warm-up   2 submits; the first provisions the project's Slurm account (sacctmgr), timed apart
      (b)  raw  ``sbatch --parsable --account ACCT --partition booster --time 1 --output ... --wrap true``
                N times, sequentially and from C concurrent submitters
      (a)  API  N ``POST /api/v1/jobs`` (single jobs), one keep-alive client and C concurrent clients;
                jobs/s from the first request to the last 201
      (c)  sweep one spec with ``array: {range: 0-(N-1)}`` through the API: tasks/s (median of --sweeps)
    Phases alternate raw / API so that both see the same cluster state. After each phase everything it
    submitted is cancelled, the queue is left to drain, and one reconciler pass (run here, against the
    server's database) settles the cancelled jobs, so every phase starts with no open jobs.
    Ratios: (a)/(b) (target >= 0.8) and (c)/(b) (target >= 5), sequential against sequential, plus the
    concurrent ones for information.

Local part
    M trivial jobs (``true``) through the gateway with the local backend (gpu_slots=0; its submit spawns
    the task at once, since it ends with a poll): ``services.jobs.submit_job`` in this process with the real
    LocalBackend and a real SQLite store, and ``POST /api/v1/jobs`` against a uvicorn server with the local
    backend. Baseline: a bare ``subprocess.Popen(["true"]).wait()``, M times, in the same run.
    Per-job gateway overhead = mean submit time - mean bare spawn; target < 20 ms.

Run (from the repository root)::

    .venv/bin/python bench/submit_throughput.py [--jobs 300] [--local-jobs 1000] [--clients 8]
                                                 [--skip-slurm] [--skip-local] [--json FILE] [--profile]

``--profile`` adds a cProfile of gateway submits (in this process; Slurm and local) and prints where the
time goes. Everything submitted is cancelled at the end (by id, and by account for the gateway's jobs), the
servers are stopped and the temporary folders removed, also on Ctrl-C, SIGTERM and errors. If this run
created the project's Slurm account, it is removed again. Exit status: 0, or 1 when a submission failed
(missed targets are reported, not turned into a failure).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

import _submit_support as sup  # noqa: E402
from api_load import Server, start_server  # noqa: E402

TARGET_API_RATIO = 0.8  # (a)/(b)
TARGET_SWEEP_RATIO = 5.0  # (c)/(b)
TARGET_OVERHEAD_MS = 20.0  # local backend, per job

err = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 150)


def log(msg: str) -> None:
    err.print(f"[dim]\\[submit_throughput {time.strftime('%H:%M:%S')}][/dim] {msg}", highlight=False)


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def lat_stats(latencies_s: list[float]) -> dict[str, float]:
    """Mean / p50 / p99 / max in ms, and the mean of the first and last tenth (growth with the job count)."""
    if not latencies_s:
        return {}
    ms = [x * 1000 for x in latencies_s]
    s = sorted(ms)
    tenth = max(1, len(ms) // 10)
    return {
        "mean_ms": statistics.fmean(ms),
        "p50_ms": s[len(s) // 2],
        "p99_ms": s[min(len(s) - 1, int(len(s) * 0.99))],
        "max_ms": s[-1],
        "first_tenth_mean_ms": statistics.fmean(ms[:tenth]),
        "last_tenth_mean_ms": statistics.fmean(ms[-tenth:]),
    }


def server_env(url: str, data_dir: Path, backend: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIFACTORY_")}
    env.update(
        AIFACTORY_DATABASE_URL=url,
        AIFACTORY_DATA_DIR=str(data_dir),
        AIFACTORY_ENV="development",
        AIFACTORY_BACKEND=backend,
        AIFACTORY_RECONCILE_SECONDS="0",
        AIFACTORY_SITE="bench",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def make_uow_factory(url: str, stack: ExitStack) -> Any:
    from aifactory.store.engine import make_engine, make_session_factory
    from aifactory.store.uow import SqlUnitOfWorkFactory

    engine = make_engine(url)
    stack.callback(engine.dispose)
    return SqlUnitOfWorkFactory(make_session_factory(engine))


def pi_actor(uow_factory: Any) -> Any:
    from aifactory.services.context import Actor

    with uow_factory(write=False) as uow:
        return Actor(uow.users.by_email(sup.PI_EMAIL))


# --------------------------------------------------------------------------------------------------------------
# Slurm part
# --------------------------------------------------------------------------------------------------------------


class SlurmBench:
    def __init__(self, args: argparse.Namespace, stack: ExitStack, tmp: Path):
        self.args, self.stack, self.tmp = args, stack, tmp
        self.jobs = sup.SlurmJobs()
        self.errors: list[str] = []
        self.refusals: list[str] = []

    # ---------------------------------------------------------------- setup and cleanup

    def setup(self) -> None:
        sup.ensure_cluster(REPO, log)
        self.config = sup.slurm_config(
            [
                "MaxJobCount",
                "MaxArraySize",
                "MinJobAge",
                "SchedulerParameters",
                "AccountingStorageEnforce",
                "SLURM_VERSION",
            ]
        )
        busy = sup.sh(["squeue", "-h", "-o", "%i"]).stdout.split()
        if busy:
            log(f"[yellow]warning: {len(busy)} jobs are already in the queue; they disturb the figures[/yellow]")
        url = f"sqlite:///{self.tmp / 'slurm.db'}"
        self.fixture = sup.prepare_database(url)
        self.jobs.account = self.fixture.account
        self.account_existed = sup.account_exists(self.fixture.account)
        self.stack.callback(self.cleanup)  # registered before the server: runs after the server is stopped
        self.data_dir = self.tmp / "slurm-data"
        env = server_env(url, self.data_dir, "slurm")
        self.server: Server = start_server(
            "slurm-api", ["--factory", "aifactory.api.app:create_app"], env, 1, self.tmp, "/api/v1/health"
        )
        self.stack.callback(self.server.stop)
        # the reconciler pass between phases runs here, on the server's database
        from aifactory.config import Settings
        from aifactory.runtime import build_gateway

        self.uow_factory = make_uow_factory(url, self.stack)
        self.gateway = build_gateway(
            Settings(
                _env_file=None,
                backend="slurm",
                data_dir=self.data_dir,
                database_url=url,
                site="bench",
                reconcile_seconds=0,
            )
        )

    def cleanup(self) -> None:
        """Cancel all we submitted, wait until the queue has none of it, remove the account if we made it."""
        if not self.jobs.ids and not self.jobs.account:
            return
        problems = self.jobs.cancel()
        left = self.jobs.wait_gone(120)
        if left:
            problems.append(f"{left} of our jobs were still in the queue 120 s after scancel")
        if self.jobs.account and not getattr(self, "account_existed", True):
            user = sup.me()
            for argv in (
                ["sacctmgr", "-i", "delete", "user", user, f"account={self.jobs.account}"],
                ["sacctmgr", "-i", "delete", "account", self.jobs.account],
            ):
                r = sup.sh(argv, 60)
                if r.returncode != 0 and "Nothing deleted" not in r.stdout + r.stderr:
                    problems.append(f"{' '.join(argv[:4])}: {(r.stdout + r.stderr).strip()[:200]}")
        for p in problems:
            log(f"[red]cleanup: {p}[/red]")
        if not problems:
            log(
                f"cleanup: {len(self.jobs.ids)} Slurm jobs cancelled, queue clean"
                + ("" if self.account_existed else f", account {self.jobs.account} removed")
            )

    def settle(self, ids: list[str]) -> dict[str, Any]:
        """Between phases: cancel the phase's jobs, let the queue drain, settle the gateway's database."""
        from aifactory.services import jobs as job_services
        from aifactory.services.ports import SystemClock

        t0 = time.perf_counter()
        self.jobs.cancel(ids)
        left = self.jobs.wait_gone(120)
        moves = job_services.reconcile(self.uow_factory, SystemClock(), self.gateway)
        with self.uow_factory(write=False) as uow:
            still_open = len(uow.jobs.open_jobs())
        if left or still_open:
            log(
                f"[yellow]after the phase: {left} jobs still queued, {still_open} still open in the "
                f"gateway's database[/yellow]"
            )
        return {"settle_s": time.perf_counter() - t0, "reconciled": moves, "queue_left": left, "open_left": still_open}

    # ---------------------------------------------------------------- phases

    def raw_phase(self, label: str, clients: int) -> dict[str, Any]:
        n = self.args.jobs
        outdir = self.tmp / "raw-out"
        outdir.mkdir(exist_ok=True)
        argv = [
            "sbatch",
            "--parsable",
            "--account",
            self.fixture.account,
            "--partition",
            "booster",
            "--time",
            "1",
            "--output",
            f"{outdir}/raw-%j.out",
            "--wrap",
            "true",
        ]

        def one(_i: int, _state: Any) -> tuple[bool, float, str]:
            t0 = time.perf_counter()
            r = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
            lat = time.perf_counter() - t0
            job_id = r.stdout.strip().split(";")[0]
            if r.returncode == 0 and job_id.isdigit():
                self.jobs.add(job_id)
                return True, lat, job_id
            return False, lat, (r.stderr or r.stdout).strip()[:300]

        return self._run(label, "raw sbatch", n, clients, one, lambda: None, lambda _s: None)

    def api_phase(self, label: str, clients: int, name: str) -> dict[str, Any]:
        n = self.args.jobs

        def one(i: int, client: sup.JobClient) -> tuple[bool, float, str]:
            res = client.submit(sup.job_doc(f"{name}-{i}"))
            self.jobs.add(res.backend_id)
            return res.ok, res.latency_s, res.backend_id if res.ok else f"HTTP {res.status} {res.state} {res.detail}"

        return self._run(
            label,
            "gateway API",
            n,
            clients,
            one,
            lambda: sup.JobClient(self.server.port, self.fixture.token),
            lambda c: c.close(),
        )

    def _run(
        self,
        label: str,
        kind: str,
        n: int,
        clients: int,
        one: Callable[[int, Any], tuple[bool, float, str]],
        make_state: Callable[[], Any],
        close_state: Callable[[Any], None],
    ) -> dict[str, Any]:
        with progress() as bar:
            task = bar.add_task(label, total=n)
            elapsed, results = sup.run_parallel(n, clients, one, make_state, close_state, lambda _r: bar.advance(task))
        ok = [r for r in results if r[0]]
        failed = [r[2] for r in results if not r[0]]
        if failed:
            self.refusals += failed[:3]
            log(f"[red]{label}: {len(failed)} of {n} submissions failed, e.g. {failed[0]}[/red]")
        ids = [r[2] for r in ok]
        row = {
            "phase": label,
            "kind": kind,
            "clients": clients,
            "jobs": n,
            "ok": len(ok),
            "failed": len(failed),
            "elapsed_s": elapsed,
            "jobs_per_s": len(ok) / elapsed if elapsed else 0.0,
            **lat_stats([r[1] for r in results]),
            "failure_samples": failed[:3],
        }
        row.update(self.settle(ids))
        log(f"{label}: {row['jobs_per_s']:.1f} jobs/s ({len(ok)}/{n} in {elapsed:.2f} s)")
        return row

    def sweep_phase(self, k: int) -> dict[str, Any]:
        n = self.args.jobs
        client = sup.JobClient(self.server.port, self.fixture.token)
        samples = []
        try:
            with progress() as bar:
                task = bar.add_task(f"(c) sweep of {n} tasks via API", total=k)
                for rep in range(k):
                    res = client.submit(sup.job_doc(f"sweep-{rep}", array=f"0-{n - 1}"))
                    self.jobs.add(res.backend_id)
                    if not res.ok:
                        self.refusals.append(f"sweep: HTTP {res.status} {res.state} {res.detail}")
                        log(f"[red]sweep {rep}: failed: HTTP {res.status} {res.state} {res.detail}[/red]")
                        break
                    samples.append(res.latency_s)
                    bar.advance(task)
                    self.settle([res.backend_id])
        finally:
            client.close()
        med = statistics.median(samples) if samples else float("nan")
        row = {
            "phase": "(c) sweep via API",
            "kind": "gateway API",
            "clients": 1,
            "jobs": n * len(samples),
            "ok": len(samples),
            "failed": k - len(samples),
            "tasks_per_sweep": n,
            "sweeps": k,
            "elapsed_s": med,
            "jobs_per_s": n / med if samples else 0.0,
            "sweep_latencies_ms": [x * 1000 for x in samples],
            **lat_stats(samples),
        }
        log(
            f"(c) sweep: {row['jobs_per_s']:.0f} tasks/s (median of {len(samples)} x {n} tasks, "
            f"{med * 1000:.1f} ms per sweep)"
        )
        return row

    def warmup(self) -> dict[str, Any]:
        client = sup.JobClient(self.server.port, self.fixture.token)
        try:
            first = client.submit(sup.job_doc("warmup-0"))
            self.jobs.add(first.backend_id)
            second = client.submit(sup.job_doc("warmup-1"))
            self.jobs.add(second.backend_id)
        finally:
            client.close()
        for res in (first, second):
            if not res.ok:
                raise RuntimeError(
                    f"warm-up submission failed: HTTP {res.status} {res.state} {res.detail}\n{self.server.log_tail()}"
                )
        self.settle([first.backend_id, second.backend_id])
        log(
            f"warm-up: first submit {first.latency_s * 1000:.0f} ms (provisions account {self.fixture.account}"
            f"{', which existed' if self.account_existed else ''}), second {second.latency_s * 1000:.1f} ms"
        )
        return {
            "first_submit_ms": first.latency_s * 1000,
            "second_submit_ms": second.latency_s * 1000,
            "account": self.fixture.account,
            "account_existed_before": self.account_existed,
        }

    def run(self) -> dict[str, Any]:
        self.setup()
        c = self.args.clients
        warm = self.warmup()
        rows = [
            self.raw_phase("(b) raw sbatch, sequential", 1),
            self.api_phase("(a) API, sequential", 1, "seq"),
            self.raw_phase(f"(b) raw sbatch, {c} concurrent", c),
            self.api_phase(f"(a) API, {c} concurrent clients", c, "conc"),
            self.sweep_phase(self.args.sweeps),
        ]
        by = {r["phase"]: r for r in rows}
        raw1, api1 = by["(b) raw sbatch, sequential"], by["(a) API, sequential"]
        rawc, apic = by[f"(b) raw sbatch, {c} concurrent"], by[f"(a) API, {c} concurrent clients"]
        sweep = by["(c) sweep via API"]

        def ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
            return a["jobs_per_s"] / b["jobs_per_s"] if b["jobs_per_s"] else float("nan")

        ratios = {
            "api_seq_over_raw_seq": ratio(api1, raw1),
            "api_conc_over_raw_conc": ratio(apic, rawc),
            "api_conc_over_raw_seq": ratio(apic, raw1),
            "sweep_over_raw_seq": ratio(sweep, raw1),
        }
        return {
            "config": {
                "jobs": self.args.jobs,
                "clients": c,
                "sweeps": self.args.sweeps,
                "slurm": self.config,
                "account": self.fixture.account,
                "reconciler": "off during phases",
            },
            "warmup": warm,
            "phases": rows,
            "ratios": ratios,
            "targets": {
                "api_over_raw_at_least": TARGET_API_RATIO,
                "sweep_over_raw_at_least": TARGET_SWEEP_RATIO,
                "api_met": ratios["api_seq_over_raw_seq"] >= TARGET_API_RATIO,
                "sweep_met": ratios["sweep_over_raw_seq"] >= TARGET_SWEEP_RATIO,
            },
            "refusals": self.refusals,
        }


# --------------------------------------------------------------------------------------------------------------
# Local part
# --------------------------------------------------------------------------------------------------------------


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


def local_part(args: argparse.Namespace, stack: ExitStack, tmp: Path) -> dict[str, Any]:
    from aifactory.backends.local_proc import reap
    from aifactory.config import Settings
    from aifactory.runtime import build_gateway
    from aifactory.services import jobs as job_services
    from aifactory.services.ports import SystemClock

    m = args.local_jobs
    rows = []
    failures: list[str] = []
    base_before = bare_spawn(m, "bare Popen(['true']).wait()")
    rows.append(
        {"phase": "bare spawn Popen+wait, before", "jobs": m, "elapsed_s": sum(base_before), **lat_stats(base_before)}
    )

    # in this process: services.jobs.submit_job, real LocalBackend, real SQLite store
    url = f"sqlite:///{tmp / 'local.db'}"
    sup.prepare_database(url)
    data_dir = tmp / "local-data"
    uow_factory = make_uow_factory(url, stack)
    settings = Settings(
        _env_file=None,
        backend="local",
        data_dir=data_dir,
        database_url=url,
        gpu_slots=0,
        site="bench",
        reconcile_seconds=0,
    )
    settings.ensure_dirs()
    gw = build_gateway(settings)
    stack.callback(lambda: (drain_local(data_dir / "local-executor"), reap()))
    actor, clock = pi_actor(uow_factory), SystemClock()
    lat = []
    with progress() as bar:
        task = bar.add_task("services.jobs.submit_job (local)", total=m)
        for i in range(m):
            t0 = time.perf_counter()
            job = job_services.submit_job(uow_factory, clock, actor, gw, sup.job_doc(f"local-{i}"))
            lat.append(time.perf_counter() - t0)
            if job.backend_id is None:
                failures.append(f"local submit {i}: {job.state} {job.reason}")
            bar.advance(task)
    rows.append({"phase": "gateway submit_job (in process)", "jobs": m, "elapsed_s": sum(lat), **lat_stats(lat)})
    left = drain_local(data_dir / "local-executor")
    reap()
    if left:
        log(f"[yellow]{left} local tasks still active 60 s after the last submit[/yellow]")

    # through the HTTP API: uvicorn with the local backend
    url2 = f"sqlite:///{tmp / 'local-api.db'}"
    fixture = sup.prepare_database(url2)
    data2 = tmp / "local-api-data"
    server = start_server(
        "local-api",
        ["--factory", "aifactory.api.app:create_app"],
        server_env(url2, data2, "local", AIFACTORY_GPU_SLOTS="0"),
        1,
        tmp,
        "/api/v1/health",
    )
    stack.callback(server.stop)
    stack.callback(lambda: drain_local(data2 / "local-executor"))  # runs before server.stop (LIFO)
    client = sup.JobClient(server.port, fixture.token)
    lat2 = []
    try:
        with progress() as bar:
            task = bar.add_task("POST /api/v1/jobs (local backend)", total=m)
            for i in range(m):
                res = client.submit(sup.job_doc(f"local-api-{i}"))
                lat2.append(res.latency_s)
                if not res.ok:
                    failures.append(f"local API submit {i}: HTTP {res.status} {res.state} {res.detail}")
                bar.advance(task)
    finally:
        client.close()
    rows.append({"phase": "gateway HTTP API (uvicorn)", "jobs": m, "elapsed_s": sum(lat2), **lat_stats(lat2)})
    base_after = bare_spawn(m, "bare Popen(['true']).wait(), again")
    rows.append(
        {"phase": "bare spawn Popen+wait, after", "jobs": m, "elapsed_s": sum(base_after), **lat_stats(base_after)}
    )
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


# --------------------------------------------------------------------------------------------------------------
# Profile (optional)
# --------------------------------------------------------------------------------------------------------------

CATEGORIES = [  # (label, file substring, function name): cumulative time of these functions
    ("sbatch (subprocess)", "slurm/client.py", "sbatch"),
    ("sacctmgr (provisioning)", "slurm/client.py", "_sacctmgr_add"),
    ("subprocess.run (all)", "subprocess.py", "run"),
    ("spec validation (jsonschema)", "jobs/spec.py", "validate_document"),
    ("parse_spec (all)", "jobs/spec.py", "parse_spec"),
    ("admission (_admit)", "services/jobs.py", "_admit"),
    ("open_jobs query", "store/repositories.py", "open_jobs"),
    ("DB commits (Session.commit)", "orm/session.py", "commit"),
    ("submit_job_once (the whole submit)", "services/jobs.py", "submit_job_once"),
    ("_send: provision + backend + 2nd transaction", "services/jobs.py", "_send"),
    ("SQLite BEGIN IMMEDIATE (uow enter)", "store/uow.py", "__enter__"),
    ("handoff (job dir mkdir)", "services/jobs.py", "_handoff"),
    ("audit record", "services/audit.py", "record"),
    ("backend.submit (Slurm)", "slurm/backend.py", "submit"),
    ("render_sbatch", "slurm/script.py", "render_sbatch"),
    ("backend.submit (local)", "backends/local.py", "submit"),
    ("local poll", "backends/local.py", "_poll_locked"),
    ("local spawn (Popen)", "backends/local_proc.py", "spawn"),
    ("local atomic writes", "backends/local_proc.py", "write"),
    ("local group_members (/proc scan)", "backends/local_proc.py", "group_members"),
    ("os.fsync", "~", "<built-in method posix.fsync>"),
    ("mkdir", "pathlib", "mkdir"),
]


def profile_submits(backend: str, n: int, tmp: Path, stack: ExitStack, slurm: sup.SlurmJobs | None) -> dict[str, Any]:
    from aifactory.config import Settings
    from aifactory.runtime import build_gateway
    from aifactory.services import jobs as job_services
    from aifactory.services.ports import SystemClock

    url = f"sqlite:///{tmp / f'profile-{backend}.db'}"
    fixture = sup.prepare_database(url)
    uow_factory = make_uow_factory(url, stack)
    settings = Settings(
        _env_file=None,
        backend=backend,
        data_dir=tmp / f"profile-{backend}",
        database_url=url,
        gpu_slots=0,
        site="bench",
        reconcile_seconds=0,
    )
    settings.ensure_dirs()
    gw = build_gateway(settings)
    actor, clock = pi_actor(uow_factory), SystemClock()
    if slurm is not None:
        slurm.account = fixture.account
    t0 = time.perf_counter()
    gw.provision(fixture.account)  # sacctmgr add account + add user: once per process, timed apart
    provision_ms = (time.perf_counter() - t0) * 1000
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    for i in range(n):
        prof.enable()
        job = job_services.submit_job(uow_factory, clock, actor, gw, sup.job_doc(f"prof-{i}"))
        prof.disable()
        if slurm is not None:
            slurm.add(job.backend_id)
    wall = (time.perf_counter() - t0) * 1000 / n
    stats = pstats.Stats(prof)
    per_job: dict[str, float] = {}
    for label, file_part, func in CATEGORIES:
        total = sum(v[3] for (f, _l, fn), v in stats.stats.items() if fn == func and file_part in f)  # type: ignore[attr-defined]
        if total:
            per_job[label] = total * 1000 / n
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    text = buf.getvalue()
    buf2 = io.StringIO()
    pstats.Stats(prof, stream=buf2).sort_stats("cumulative").print_stats(40)
    cum = buf2.getvalue()
    if backend == "local":
        drain_local(settings.data_dir / "local-executor")
    return {
        "backend": backend,
        "submits": n,
        "wall_ms_per_submit": wall,
        "provision_ms": provision_ms,
        "cumulative_ms_per_submit": per_job,
        "top_tottime": text[text.find("ncalls") - 2 :],
        "top_cumulative": cum[cum.find("ncalls") - 2 :],
    }


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "[green]met[/green]" if ok else "[red]NOT met[/red]"


def print_report(fig: dict[str, Any]) -> None:
    s, loc = fig.get("slurm"), fig.get("local")
    if s:
        cfg = s["config"]["slurm"]
        out.print(
            f"\n[bold]Slurm[/bold] {cfg.get('SLURM_VERSION', '?')} on this machine "
            f"({os.cpu_count()} CPUs; MaxJobCount {cfg.get('MaxJobCount')}, MinJobAge {cfg.get('MinJobAge')}, "
            f"SchedulerParameters {cfg.get('SchedulerParameters')}); account {s['config']['account']}; "
            f"job: true, --time 1, partition booster, 0 GPUs; reconciler off during the phases"
        )
        w = s["warmup"]
        out.print(
            f"warm-up: first gateway submit {w['first_submit_ms']:.0f} ms (includes sacctmgr provisioning, "
            f"account {'existed' if w['account_existed_before'] else 'new'}), "
            f"second {w['second_submit_ms']:.1f} ms"
        )
        t = Table(title=f"Submission throughput, {s['config']['jobs']} jobs per phase")
        for col in (
            "phase",
            "ok/jobs",
            "elapsed s",
            "jobs/s",
            "mean ms",
            "p50 ms",
            "p99 ms",
            "first 10% ms",
            "last 10% ms",
        ):
            t.add_column(col, justify="left" if col == "phase" else "right")
        for r in s["phases"]:
            t.add_row(
                r["phase"],
                f"{r['ok']}/{r['ok'] + r['failed']}" if "tasks_per_sweep" in r else f"{r['ok']}/{r['jobs']}",
                f"{r['elapsed_s']:.3f}",
                f"{r['jobs_per_s']:.1f}",
                f"{r.get('mean_ms', float('nan')):.1f}",
                f"{r.get('p50_ms', float('nan')):.1f}",
                f"{r.get('p99_ms', float('nan')):.1f}",
                f"{r.get('first_tenth_mean_ms', float('nan')):.1f}",
                f"{r.get('last_tenth_mean_ms', float('nan')):.1f}",
            )
        out.print(t)
        sweep = next(r for r in s["phases"] if "tasks_per_sweep" in r)
        out.print(
            f"(c) sweeps: {sweep['sweeps']} x {sweep['tasks_per_sweep']} tasks, one request each: "
            + ", ".join(f"{x:.1f} ms" for x in sweep["sweep_latencies_ms"])
            + " (jobs/s = tasks/s, median)"
        )
        if s["refusals"]:
            out.print(f"[red]refused / failed submissions, e.g.: {s['refusals'][:3]}[/red]")
    if loc:
        t = Table(title=f"Local backend: {loc['config']['jobs']} trivial jobs (gpu_slots=0, reconciler off)")
        for col in ("phase", "jobs/s", "mean ms", "p50 ms", "p99 ms", "max ms", "first 10% ms", "last 10% ms"):
            t.add_column(col, justify="left" if col == "phase" else "right")
        for r in loc["phases"]:
            t.add_row(
                r["phase"],
                f"{r['jobs_per_s']:.1f}",
                f"{r['mean_ms']:.2f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{r['max_ms']:.2f}",
                f"{r['first_tenth_mean_ms']:.2f}",
                f"{r['last_tenth_mean_ms']:.2f}",
            )
        out.print(t)
        o = loc["overhead_per_job"]
        out.print(
            f"per-job gateway overhead over a bare spawn ({o['baseline_spawn_ms']:.2f} ms): "
            f"in process {o['direct_ms']:.2f} ms, via HTTP {o['api_ms']:.2f} ms"
        )
    for p in fig.get("profile", []):
        out.print(
            f"\n[bold]cProfile, {p['submits']} {p['backend']} submits in process[/bold]: "
            f"{p['wall_ms_per_submit']:.2f} ms per submit (wall, profiled); provisioning "
            f"{p['provision_ms']:.0f} ms once"
        )
        for label, ms in sorted(p["cumulative_ms_per_submit"].items(), key=lambda kv: -kv[1]):
            out.print(f"  {label:<46} {ms:8.2f} ms/submit (cumulative)")
        out.print(p["top_tottime"], highlight=False, markup=False, soft_wrap=True)

    parts = []
    if s:
        r, tg = s["ratios"], s["targets"]
        parts.append(
            f"(a)/(b) = {r['api_seq_over_raw_seq']:.2f} (target >= {TARGET_API_RATIO}: "
            f"{verdict(tg['api_met'])}; {s['config']['clients']} concurrent: "
            f"{r['api_conc_over_raw_conc']:.2f})"
        )
        parts.append(
            f"(c)/(b) = {r['sweep_over_raw_seq']:.1f} (target >= {TARGET_SWEEP_RATIO:g}: {verdict(tg['sweep_met'])})"
        )
    if loc:
        o, tg = loc["overhead_per_job"], loc["targets"]
        parts.append(
            f"local overhead {o['direct_ms']:.1f} ms in process ({verdict(tg['direct_met'])}), "
            f"{o['api_ms']:.1f} ms via HTTP ({verdict(tg['api_met'])}) (target < {TARGET_OVERHEAD_MS:g} ms)"
        )
    if parts:
        out.print("\nRESULT: " + "; ".join(parts))


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--jobs", type=int, default=300, help="jobs per Slurm phase, and tasks of the sweep (300)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients / submitters (8)")
    ap.add_argument("--sweeps", type=int, default=3, help="sweeps submitted for (c); the median counts (3)")
    ap.add_argument("--local-jobs", type=int, default=1000, help="jobs through the local backend (1000)")
    ap.add_argument("--skip-slurm", action="store_true", help="only the local part")
    ap.add_argument("--skip-local", action="store_true", help="only the Slurm part")
    ap.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=30,
        default=0,
        metavar="N",
        help="also cProfile N gateway submits in process per backend (default N: 30)",
    )
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = ap.parse_args(argv)
    if not 1 <= args.jobs <= 1000 or args.clients < 1 or args.sweeps < 1 or args.local_jobs < 1:
        ap.error("--jobs must be 1..1000 (MaxArraySize), --clients, --sweeps and --local-jobs at least 1")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl-C: everything is cleaned up
    fig: dict[str, Any] = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aifactory-submit-bench-")))
        if not args.skip_slurm:
            with ExitStack() as slurm_stack:  # the cluster is cleaned before the local part starts
                fig["slurm"] = SlurmBench(args, slurm_stack, tmp).run()
        if not args.skip_local:
            with ExitStack() as local_stack:
                fig["local"] = local_part(args, local_stack, tmp)
        if args.profile:
            fig["profile"] = []
            if not args.skip_slurm:
                tracked = sup.SlurmJobs()
                with ExitStack() as ps:
                    existed = None

                    def drop_account() -> None:
                        if tracked.account and existed is False:
                            sup.sh(["sacctmgr", "-i", "delete", "user", sup.me(), f"account={tracked.account}"])
                            sup.sh(["sacctmgr", "-i", "delete", "account", tracked.account])

                    ps.callback(drop_account)  # after the cancel (LIFO: registered first, runs last)
                    ps.callback(lambda: (tracked.cancel(), tracked.wait_gone(60)))
                    existed = sup.account_exists(sup.prepare_database(f"sqlite:///{tmp / 'probe.db'}").account)
                    fig["profile"].append(profile_submits("slurm", args.profile, tmp, ps, tracked))
            if not args.skip_local:
                with ExitStack() as ps:
                    fig["profile"].append(profile_submits("local", args.profile, tmp, ps, None))
    print_report(fig)
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2, default=str))
        log(f"figures written to {args.json}")
    failed = sum(r["failed"] for r in fig.get("slurm", {}).get("phases", [])) + fig.get("local", {}).get("failed", 0)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # everything is cleaned up by then
        log("interrupted; submitted jobs cancelled, servers stopped, temporary files removed")
        sys.exit(130)
