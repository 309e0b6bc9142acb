"""The portal load's report: the seed, a table of the pages' latencies against the target, the CPU, error
samples, the profile (when asked for) and a one-line result."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from _harness.report import stdout_console

from .measure import TARGET_P99_MS

out = stdout_console(160)
COLUMNS = ["page", "path", "first ms", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "p99/base"]
COLUMNS += ["srv CPU ms/req", "KB", "errors", "p99 target"]


def print_report(fig: dict[str, Any]) -> None:
    _print_header(fig)
    out.print(_table(fig))
    rows = [fig["baseline"], *fig["pages"]]
    cores = [r for r in rows if r["status"] == "ok"]
    if cores:
        out.print(
            "CPU cores busy (server / load generator): "
            + ", ".join(f"{r['page']} {r['server_cpu_cores']:.2f}/{r['client_cpu_cores']:.2f}" for r in cores)
        )
    for r in rows:
        for sample in r["error_samples"][:2]:
            out.print(f"[red]error sample [{r['page']}][/red]: {sample}", highlight=False)
    for p in fig.get("profile", []):
        _print_profile(p)
    _print_result(fig)


def _print_header(fig: dict[str, Any]) -> None:
    c, s = fig["config"], fig["seed"]
    out.print(
        f"\n[bold]Portal load[/bold]: {c['database']}, {c['proposals']:,} proposals, "
        f"{c['jobs']:,} jobs ({s['busy_jobs']:,} in project {s['busy_project_id']}), "
        f"uvicorn --workers {c['workers']}, {c['clients']} clients, {c['requests']} requests per page "
        f"after {c['warmup']} warm-up, {c['cpus']} CPUs"
    )
    out.print(
        "seed: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in s["seconds"].items())
        + f" (total {sum(s['seconds'].values()):.1f} s); rows: "
        + ", ".join(f"{k} {v:,}" for k, v in s["counts"].items()),
        highlight=False,
    )


def _table(fig: dict[str, Any]) -> Table:
    c = fig["config"]
    t = Table(title=f"Latency under {c['clients']} concurrent clients ({c['load']}), target p99 < {TARGET_P99_MS:g} ms")
    for col in COLUMNS:
        t.add_column(col, justify="left" if col in ("page", "path", "p99 target") else "right")
    for r in [fig["baseline"], *fig["pages"]]:
        if r["status"] != "ok":
            t.add_row(
                r["page"], r["path"], *[""] * 9, str(r["errors"]), f"[yellow]{r['status']}[/yellow]: {r['note'][:40]}"
            )
            continue
        verdict = "-" if r["page"] == "baseline" else "[green]met[/green]" if r["p99_met"] else "[red]NOT met[/red]"
        t.add_row(
            r["page"],
            r["path"],
            *(f"{r[k]:.1f}" for k in ("first_ms", "req_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms")),
            f"{r['p99_over_baseline']:.1f}",
            f"{r['server_cpu_ms_per_req']:.1f}",
            f"{r['bytes'] / 1024:.1f}",
            str(r["errors"]),
            verdict,
        )
    return t


def _print_profile(p: dict[str, Any]) -> None:
    for phase in ("cold", "warm"):
        x = p[phase]
        out.print(
            f"\n[bold]profile {p['page']}, {phase}[/bold] ({p['path']}, {x['requests']} request(s)): "
            f"{x['wall_ms_per_req']:.1f} ms/request in process (profiled), SQL {x['sql_ms_per_req']:.1f} ms "
            f"in {x['sql_statements_per_req']:.1f} statements"
        )
        for q in x["top_sql"][:5]:
            out.print(
                f"  {q['ms_per_req']:7.2f} ms/req  {q['calls_per_req']:5.1f} x {q['ms_per_call']:6.2f} ms  "
                f"{q['sql'][:300]}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        if phase == "warm":
            out.print(x["top_tottime"], highlight=False, markup=False, soft_wrap=True)
            out.print(x["top_cumulative"], highlight=False, markup=False, soft_wrap=True)


def _print_result(fig: dict[str, Any]) -> None:
    measured = [r for r in fig["pages"] if r["status"] == "ok"]
    missing = [r["page"] for r in fig["pages"] if r["status"] == "missing"]
    parts = [
        f"{r['page']} p99 {r['p99_ms']:.0f} ms ({'met' if r['p99_met'] else 'NOT met'}, "
        f"{r['p99_over_baseline']:.1f}x baseline)"
        for r in measured
    ]
    b = fig["baseline"]
    base = f"baseline p99 {b['p99_ms']:.1f} ms" if b["status"] == "ok" else "baseline failed"
    out.print(
        f"\nRESULT: {base}; "
        + ("; ".join(parts) or "no page measured")
        + (f"; missing (404): {', '.join(missing)}" if missing else "")
    )
