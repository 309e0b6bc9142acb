"""The report of ``bench/submit_throughput.py``: the Slurm phases, the local backend's overhead, the profile
(when asked for) and a one-line result against the targets."""

from __future__ import annotations

import os
from typing import Any

from rich.table import Table

from _harness.report import stdout_console, verdict

from .local_part import TARGET_OVERHEAD_MS
from .slurm_part import TARGET_API_RATIO, TARGET_SWEEP_RATIO

out = stdout_console(150)


def print_report(fig: dict[str, Any]) -> None:
    s, loc = fig.get("slurm"), fig.get("local")
    if s:
        _print_slurm(s)
    if loc:
        _print_local(loc)
    for p in fig.get("profile", []):
        _print_profile(p)
    _print_result(s, loc)


def _print_slurm(s: dict[str, Any]) -> None:
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


def _print_local(loc: dict[str, Any]) -> None:
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


def _print_profile(p: dict[str, Any]) -> None:
    out.print(
        f"\n[bold]cProfile, {p['submits']} {p['backend']} submits in process[/bold]: "
        f"{p['wall_ms_per_submit']:.2f} ms per submit (wall, profiled); provisioning "
        f"{p['provision_ms']:.0f} ms once"
    )
    for label, ms in sorted(p["cumulative_ms_per_submit"].items(), key=lambda kv: -kv[1]):
        out.print(f"  {label:<46} {ms:8.2f} ms/submit (cumulative)")
    out.print(p["top_tottime"], highlight=False, markup=False, soft_wrap=True)


def _print_result(s: dict[str, Any] | None, loc: dict[str, Any] | None) -> None:
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
