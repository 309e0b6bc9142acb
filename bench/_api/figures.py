"""The API load's phases and figures: a warm-up, then the measured load against one server, with the CPU
that the server, the load generator, PostgreSQL and everything else used; the figures as JSON or a table."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from _harness.cpu import database_cpu_seconds, machine_busy_seconds
from _harness.http_load import GroupStats, Pace, Requester, errors_of, requests_of, run_load
from _harness.report import Log
from _harness.servers import Server
from _harness.stats import percentile, ratio

from .seed import Fixture

TARGET_P99_MS = 50.0
TARGET_RATIO = 0.40


@dataclass(frozen=True)
class LoadPlan:
    clients: int
    duration: float
    warmup: float
    seed: int
    rate: float | None  # requests per second in all (paced), or None: closed loop

    @property
    def pace(self) -> Pace:
        return Pace(interval=self.clients / self.rate if self.rate else None)


@dataclass
class PhaseResult:
    name: str
    elapsed_s: float
    groups: dict[str, GroupStats]
    server_cpu_s: float
    client_cpu_s: float
    database_cpu_s: float  # PostgreSQL backends of the benchmark's database (0 for SQLite: in the server)
    machine_cpu_s: float  # all processes on the machine; what the others leave is other work
    warmup_errors: int = 0
    warmup_error_samples: list[str] = field(default_factory=list)


def run_phase(
    name: str,
    server: Server,
    requester: Requester,
    groups: Sequence[str],
    plan: LoadPlan,
    database: str | None,
    log: Log,
) -> PhaseResult:
    requesters = [requester] * plan.clients
    werr, wsamples = 0, []
    if plan.warmup > 0:
        _, warm = run_load(server.port, requesters, groups, seed=plan.seed + 1, duration=plan.warmup, pace=plan.pace)
        werr, wsamples = errors_of(warm)
        first = f", {werr} errors (first: {wsamples[0]})" if werr else ""
        log(f"{name}: warm-up {plan.warmup:g} s, {requests_of(warm)} requests{first}", markup=False)
    cpu0, client0 = server.cpu_seconds(), time.process_time()
    db0, machine0 = database_cpu_seconds(database), machine_busy_seconds()
    elapsed, stats = run_load(server.port, requesters, groups, seed=plan.seed, duration=plan.duration, pace=plan.pace)
    result = PhaseResult(
        name,
        elapsed,
        stats,
        server.cpu_seconds() - cpu0,
        time.process_time() - client0,
        max(0.0, database_cpu_seconds(database) - db0),
        machine_busy_seconds() - machine0,
        werr,
        wsamples,
    )
    log(f"{name}: {requests_of(stats)} requests in {elapsed:.1f} s")
    return result


def summarize(name: str, elapsed: float, stats: list[GroupStats]) -> dict[str, Any]:
    lat = sorted(x for s in stats for x in s.latencies_ms)
    return {
        "group": name,
        "requests": len(lat),
        "errors": sum(s.errors for s in stats),
        "req_per_s": len(lat) / elapsed,
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "max_ms": lat[-1] if lat else float("nan"),
        "error_samples": [e for s in stats for e in s.error_samples][:5],
    }


def _phase(phase: PhaseResult) -> dict[str, Any]:
    """The warm-up's errors and the cores busy during a phase: the server's, the load generator's, the database
    server's (PostgreSQL) and everything else on the machine (work that is not the benchmark's and disturbs it)."""
    other = max(0.0, phase.machine_cpu_s - phase.server_cpu_s - phase.client_cpu_s - phase.database_cpu_s)
    return {
        "warmup_errors": phase.warmup_errors,
        "warmup_error_samples": phase.warmup_error_samples,
        "server_cpu_cores": phase.server_cpu_s / phase.elapsed_s,
        "client_cpu_cores": phase.client_cpu_s / phase.elapsed_s,
        "database_cpu_cores": phase.database_cpu_s / phase.elapsed_s,
        "other_cpu_cores": other / phase.elapsed_s,
    }


def _config(args: argparse.Namespace, fixture: Fixture, backend: str) -> dict[str, Any]:
    return {
        "database": backend,
        "proposals": fixture.total_proposals,
        "workers": args.workers,
        "clients": args.clients,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "mix": args.mix,
        "page_size": args.page_size,
        "bare_endpoint": args.bare_endpoint,
        "load": "closed loop" if args.rate is None else f"paced at {args.rate:g} req/s",
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }


def figures(
    app: PhaseResult, bare: PhaseResult, args: argparse.Namespace, fixture: Fixture, backend: str
) -> dict[str, Any]:
    app_all = summarize("app (all)", app.elapsed_s, list(app.groups.values()))
    bare_all = summarize("bare", bare.elapsed_s, list(bare.groups.values()))
    app_over_bare = ratio(app_all["req_per_s"], bare_all["req_per_s"])
    return {
        "config": _config(args, fixture, backend),
        "app": {
            "groups": [summarize(g, app.elapsed_s, [s]) for g, s in app.groups.items()],
            "all": app_all,
            **_phase(app),
        },
        "bare": {"all": bare_all, **_phase(bare)},
        "ratio": app_over_bare,
        "targets": {
            "p99_ms_below": TARGET_P99_MS,
            "ratio_at_least": TARGET_RATIO,
            "p99_met": app_all["p99_ms"] < TARGET_P99_MS,
            # Under paced load both servers get the same offered rate: the ratio says nothing then.
            "ratio_met": app_over_bare >= TARGET_RATIO if args.rate is None else None,
        },
    }


def _line(r: dict[str, Any]) -> None:
    print(
        f"{r['group']:<16}{r['requests']:>10}{r['req_per_s']:>10.1f}{r['p50_ms']:>10.1f}"
        f"{r['p99_ms']:>10.1f}{r['max_ms']:>10.1f}{r['errors']:>8}"
    )


def print_table(fig: dict[str, Any]) -> None:
    c = fig["config"]
    print(
        f"\nAPI load: {c['proposals']} proposals on {c['database']}, uvicorn --workers {c['workers']}, "
        f"{c['clients']} clients, {c['duration_s']:g} s per phase (after {c['warmup_s']:g} s warm-up), "
        f"{c['cpus']} CPUs"
    )
    print(f"load: {c['load']}; mix: {c['mix']}; list page size {c['page_size']}; bare endpoint: {c['bare_endpoint']}\n")
    header = (
        f"{'endpoint group':<16}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in fig["app"]["groups"]:
        _line(r)
    _line(fig["app"]["all"])
    print("-" * len(header))
    _line(fig["bare"]["all"])
    print()
    _print_cpu(fig)
    _print_verdicts(fig)


def _print_cpu(fig: dict[str, Any]) -> None:
    c = fig["config"]
    for phase in ("app", "bare"):
        f = fig[phase]
        db = f", PostgreSQL {f['database_cpu_cores']:.2f}" if c["database"] == "PostgreSQL" else ""
        print(
            f"CPU cores busy, {phase + ' phase:':<12}server {f['server_cpu_cores']:.2f}, load generator "
            f"{f['client_cpu_cores']:.2f}{db}, other processes {f['other_cpu_cores']:.2f} (of {c['cpus']})"
        )
    if max(fig["app"]["other_cpu_cores"], fig["bare"]["other_cpu_cores"]) > 0.25:
        print("warning: other processes were busy during the run; the figures are disturbed")


def _print_verdicts(fig: dict[str, Any]) -> None:
    t = fig["targets"]
    verdict = "n/a under paced load" if t["ratio_met"] is None else "met" if t["ratio_met"] else "NOT met"
    print(f"throughput ratio app/bare: {fig['ratio']:.1%}  (target >= {t['ratio_at_least']:.0%}: {verdict})")
    print(
        f"app p99: {fig['app']['all']['p99_ms']:.1f} ms  "
        f"(target < {t['p99_ms_below']:g} ms: {'met' if t['p99_met'] else 'NOT met'})"
    )
    for r in [*fig["app"]["groups"], fig["bare"]["all"]]:
        for sample in r["error_samples"]:
            print(f"error sample [{r['group']}]: {sample}")
    for phase in ("app", "bare"):
        if fig[phase]["warmup_errors"]:
            print(
                f"{fig[phase]['warmup_errors']} errors during the {phase} warm-up, e.g. "
                f"{fig[phase]['warmup_error_samples'][0]}"
            )
