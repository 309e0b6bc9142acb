"""The Slurm part of ``bench/submit_throughput.py``: raw ``sbatch`` against the gateway's API on the real local
cluster, phase by phase, every phase's jobs cancelled and settled before the next."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _harness.report import logger, progress
from _harness.servers import APP, Server, start_server
from _harness.stats import ratio

from . import cluster
from .client import JobClient, run_parallel
from .common import gateway, job_doc, lat_stats, prepare_database, submit_server_env, uow_factory

TARGET_API_RATIO = 0.8  # (a)/(b)
TARGET_SWEEP_RATIO = 5.0  # (c)/(b)
log = logger("submit_throughput")


class SlurmBench:
    def __init__(self, args: argparse.Namespace, stack: ExitStack, tmp: Path):
        self.args, self.stack, self.tmp = args, stack, tmp
        self.jobs = cluster.SlurmJobs()
        self.errors: list[str] = []
        self.refusals: list[str] = []

    # ---------------------------------------------------------------- setup and cleanup

    def setup(self) -> None:
        cluster.ensure_cluster(Path(__file__).resolve().parents[2], log)
        self.config = cluster.slurm_config(
            [
                "MaxJobCount",
                "MaxArraySize",
                "MinJobAge",
                "SchedulerParameters",
                "AccountingStorageEnforce",
                "SLURM_VERSION",
            ]
        )
        busy = cluster.sh(["squeue", "-h", "-o", "%i"]).stdout.split()
        if busy:
            log(f"[yellow]warning: {len(busy)} jobs are already in the queue; they disturb the figures[/yellow]")
        url = f"sqlite:///{self.tmp / 'slurm.db'}"
        self.fixture = prepare_database(url)
        self.jobs.account = self.fixture.account
        self.account_existed = cluster.account_exists(self.fixture.account)
        self.stack.callback(self.cleanup)  # registered before the server: runs after the server is stopped
        self.data_dir = self.tmp / "slurm-data"
        env = submit_server_env(url, self.data_dir, "slurm")
        self.server: Server = start_server("slurm-api", APP, env, 1, self.tmp, log)
        self.stack.callback(self.server.stop)
        # the reconciler pass between phases runs here, on the server's database
        self.uow_factory = uow_factory(url, self.stack)
        self.gateway = gateway(url, self.data_dir, "slurm")

    def cleanup(self) -> None:
        """Cancel all we submitted, wait until the queue has none of it, remove the account if we made it."""
        if not self.jobs.ids and not self.jobs.account:
            return
        problems = self.jobs.cancel()
        left = self.jobs.wait_gone(120)
        if left:
            problems.append(f"{left} of our jobs were still in the queue 120 s after scancel")
        if self.jobs.account and not getattr(self, "account_existed", True):
            problems += cluster.drop_account(self.jobs.account)
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

        def one(i: int, client: JobClient) -> tuple[bool, float, str]:
            res = client.submit(job_doc(f"{name}-{i}"))
            self.jobs.add(res.backend_id)
            return res.ok, res.latency_s, res.backend_id if res.ok else f"HTTP {res.status} {res.state} {res.detail}"

        return self._run(
            label,
            "gateway API",
            n,
            clients,
            one,
            lambda: JobClient(self.server.port, self.fixture.token),
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
            elapsed, results = run_parallel(n, clients, one, make_state, close_state, lambda _r: bar.advance(task))
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
        client = JobClient(self.server.port, self.fixture.token)
        samples = []
        try:
            with progress() as bar:
                task = bar.add_task(f"(c) sweep of {n} tasks via API", total=k)
                for rep in range(k):
                    res = client.submit(job_doc(f"sweep-{rep}", array=f"0-{n - 1}"))
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
        client = JobClient(self.server.port, self.fixture.token)
        try:
            first = client.submit(job_doc("warmup-0"))
            self.jobs.add(first.backend_id)
            second = client.submit(job_doc("warmup-1"))
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

        ratios = {
            "api_seq_over_raw_seq": ratio(api1["jobs_per_s"], raw1["jobs_per_s"]),
            "api_conc_over_raw_conc": ratio(apic["jobs_per_s"], rawc["jobs_per_s"]),
            "api_conc_over_raw_seq": ratio(apic["jobs_per_s"], raw1["jobs_per_s"]),
            "sweep_over_raw_seq": ratio(sweep["jobs_per_s"], raw1["jobs_per_s"]),
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
