"""One page under load: its first request alone (cold), a warm-up, then N requests from C concurrent clients;
the latencies, the server's CPU per request, and the summary that the report and the JSON show."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from _harness.http_load import GroupStats, Pace, Requester, errors_of, probe, run_load
from _harness.report import Log
from _harness.servers import Server
from _harness.stats import Latency, ratio

from .pages import Page

TARGET_P99_MS = 150.0


@dataclass
class PageResult:
    page: Page
    status: str = "ok"  # ok | missing | error
    stats: GroupStats = field(default_factory=GroupStats)
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    first_ms: float = float("nan")  # the first request, alone (cold caches)
    note: str = ""


def _fixed(name: str, request: bytes) -> Requester:
    return lambda _r: (name, request)


def measure(
    server: Server, page: Page, requests: list[bytes], n: int, warmup: int, think_s: float, log: Log
) -> PageResult:
    res = PageResult(page)
    status, body, res.first_ms = probe(server.port, requests[0])
    if status == 404:
        res.status, res.note = "missing", "404: not built yet"
        log(f"{page.name}: GET {page.path} answers 404 -- reported as missing")
        return res
    if status != 200:
        res.status, res.note = "error", f"HTTP {status}: {body[:200]!r}"
        log(f"[red]{page.name}: GET {page.path} answers {status}[/red]")
        log(repr(body[:300]), markup=False)
        return res
    requesters = [_fixed(page.name, r) for r in requests]
    if warmup:
        _, warm = run_load(server.port, requesters, [page.name], requests=warmup, timeout=300)
        errors, samples = errors_of(warm)
        if errors:
            log(f"[yellow]{page.name}: {errors} errors in the warm-up, e.g.[/yellow]")
            log(samples[0], markup=False)
    cpu0, client0 = server.cpu_seconds(), time.process_time()
    pace = Pace(think_s=think_s)
    res.elapsed_s, stats = run_load(server.port, requesters, [page.name], requests=n, pace=pace, timeout=600)
    res.server_cpu_s, res.client_cpu_s = server.cpu_seconds() - cpu0, time.process_time() - client0
    res.stats = stats[page.name]
    lat = Latency.of_ms(res.stats.latencies_ms)
    errs = f", {res.stats.errors} errors" if res.stats.errors else ""
    took = f"{lat.count} requests in {res.elapsed_s:.1f} s"
    log(f"{page.name}: {took}, p50 {lat.p50_ms:.1f} ms, p99 {lat.p99_ms:.1f} ms{errs}")
    return res


def summary(r: PageResult, base_p99: float) -> dict[str, Any]:
    lat = Latency.of_ms(r.stats.latencies_ms)
    n = lat.count
    d: dict[str, Any] = {
        "page": r.page.name,
        "path": r.page.path,
        "status": r.status,
        "note": r.note,
        "requests": n,
        "errors": r.stats.errors,
        "error_samples": r.stats.error_samples,
    }
    if r.status != "ok":
        return d
    d.update(
        req_per_s=ratio(n, r.elapsed_s),
        **lat.pick("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"),
        server_cpu_ms_per_req=ratio(r.server_cpu_s * 1000, n),
        client_cpu_cores=r.client_cpu_s / r.elapsed_s if r.elapsed_s else 0.0,
        server_cpu_cores=r.server_cpu_s / r.elapsed_s if r.elapsed_s else 0.0,
        bytes=r.stats.bytes_per_response,
        first_ms=r.first_ms,
        p99_over_baseline=lat.p99_ms / base_p99 if base_p99 else 1.0,
        p99_met=lat.p99_ms < TARGET_P99_MS,
    )
    return d
