#!/usr/bin/env python
"""Hostile job specs: how fast the real server refuses them, whether /health keeps answering meanwhile, and what
they cost its memory -- each against a normal spec, measured in the same run.

What it does
    A real ``aifactory`` API served by uvicorn on 127.0.0.1 (1 worker, the local backend, the reconciler off) on
    a fresh demo-seeded SQLite database in a temporary folder. For each spec below, ``--rounds`` submissions as
    the bakery's PI (project 1), one after the other; during each, a prober thread asks ``GET /api/v1/health``
    every 5 ms on a connection of its own. Figures per spec: the answer's status, its median and worst time,
    the ratio of the median to the normal spec's, the worst /health latency while the spec was being answered,
    and the server's resident memory (VmRSS) before the spec's first round and after its last.

    normal        a valid single job (``true``, 1 minute): 201
    grid-303B     the outside test's 303-byte body: 6 keys x 10 values (10^6 tasks) for a project that does not
                  exist -- once 1.9 s and ~285 MB before its 422
    grid-1e48     16 keys x 1,000 values (10^48 tasks, ~64 KB) -- once never answered
    yaml-bomb     a "billion laughs" in YAML: 9 levels of 10 aliases each
    yaml-large    a ~190 KB YAML spec without aliases (a script near its 200,000-character limit): accepted
    json-deep     50,000 nested arrays
    too-large     a 1 MB YAML spec: over the spec size limit

    Targets (from issue 11): every hostile spec answered 422 or 413 within 100 ms, /health under 50 ms meanwhile,
    memory flat. Missed targets are reported, not turned into a failure; the exit status is 1 only when a spec
    got an answer other than the one expected.

Run (from the repository root)::

    .venv/bin/python bench/hostile_specs.py [--rounds 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness.report import logger, run_main, stdout_console, verdict, write_json
from _harness.seeding import demo_database
from _harness.servers import APP, HOST, Server, server_env, start_server
from _harness.stats import ratio

log = logger("hostile_specs")
JSON, YAML = "application/json", "application/yaml"
ANSWER_MS, HEALTH_MS = 100.0, 50.0


def _grid(keys: int, values: int, project: int) -> bytes:
    doc = {"name": "g", "project": project, "command": ["true"], "array": {"grid": {}}}
    doc["array"]["grid"] = {f"p{k}": list(range(values)) for k in range(keys)}
    return json.dumps(doc, separators=(",", ":")).encode()


def _alias_bomb(levels: int, fanout: int) -> bytes:
    names = [f"l{n}" for n in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * fanout)}]"]
    for prev, name in zip(names, names[1:], strict=False):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * fanout)}]")
    lines += ["name: bomb", "project: 1", "command: [true]", f"env: {{BOOM: *{names[-1]}}}"]
    return "\n".join(lines).encode()


def _long_script(size: int) -> bytes:
    body = "\n".join(f"  echo line {i:07d}" for i in range(size // 20))
    return f"name: long\nproject: 1\nscript: |\n{body}\n".encode()


def specs() -> dict[str, tuple[bytes, str, tuple[int, ...]]]:
    """name -> (body, content type, the statuses that are right)."""
    normal = json.dumps({"name": "n", "project": 1, "command": ["true"], "resources": {"time": 1}}).encode()
    return {
        "normal": (normal, JSON, (201,)),
        "grid-303B": (_grid(6, 10, 99999), JSON, (422,)),
        "grid-1e48": (_grid(16, 1000, 1), JSON, (422,)),
        "yaml-bomb": (_alias_bomb(9, 10), YAML, (422,)),
        "yaml-large": (_long_script(190_000), YAML, (201,)),
        "json-deep": (b"[" * 50_000 + b"]" * 50_000, JSON, (413, 422)),
        "too-large": (_long_script(1_000_000), YAML, (413,)),
    }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Prober:
    """GET /health every 5 ms on its own connection, each probe kept as (start, end) in perf_counter seconds."""

    port: int
    probes: list[tuple[float, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        while not self.stop.is_set():
            t0 = time.perf_counter()
            conn.request("GET", "/api/v1/health")
            conn.getresponse().read()
            self.probes.append((t0, time.perf_counter()))
            time.sleep(0.005)
        conn.close()

    def worst_during(self, start: float, end: float) -> float:
        """The slowest probe that overlapped [start, end] (or, if none did, the first one after it), in ms."""
        deadline = time.perf_counter() + 1
        while not any(e > end for _, e in self.probes) and time.perf_counter() < deadline:
            time.sleep(0.002)
        overlapping = [(e - s) * 1000 for s, e in self.probes if s < end and e > start]
        after = [(e - s) * 1000 for s, e in self.probes if e > end][:1]
        return max(overlapping or after or [float("nan")])


def submit(port: int, token: str, body: bytes, kind: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": kind}
    t0 = time.perf_counter()
    conn.request("POST", "/api/v1/jobs", body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    elapsed = (time.perf_counter() - t0) * 1000
    conn.close()
    return resp.status, elapsed


def measure_spec(app: Server, token: str, prober: Prober, spec: tuple[bytes, str, tuple[int, ...]], rounds: int):
    body, kind, expected = spec
    before = rss_kib(app.proc.pid)
    times, statuses, health = [], set(), []
    for _ in range(rounds):
        start = time.perf_counter()
        status, ms = submit(app.port, token, body, kind)
        times.append(ms)
        statuses.add(status)
        health.append(prober.worst_during(start, time.perf_counter()))
    return {
        "bytes": len(body),
        "statuses": sorted(statuses),
        "ok": statuses <= set(expected),
        "median_ms": statistics.median(times),
        "worst_ms": max(times),
        "health_worst_ms": max(health),
        "rss_before_mib": before / 1024,
        "rss_after_mib": rss_kib(app.proc.pid) / 1024,
    }


def print_table(figures: dict[str, dict[str, Any]]) -> None:
    out = stdout_console(140)
    base = figures["normal"]["median_ms"]
    out.print(
        f"{'spec':<12} {'bytes':>9} {'status':>9} {'median':>9} {'worst':>9} {'x normal':>9} "
        f"{'/health max':>12} {'RSS MiB before → after':>24}"
    )
    for name, f in figures.items():
        out.print(
            f"{name:<12} {f['bytes']:>9,} {'/'.join(map(str, f['statuses'])):>9} {f['median_ms']:>7.1f}ms "
            f"{f['worst_ms']:>7.1f}ms {ratio(f['median_ms'], base):>9.2f} {f['health_worst_ms']:>10.1f}ms "
            f"{f['rss_before_mib']:>11.1f} → {f['rss_after_mib']:<10.1f}",
            highlight=False,
        )
    hostile = {n: f for n, f in figures.items() if n not in ("normal", "yaml-large")}
    answered = all(f["worst_ms"] < ANSWER_MS for f in hostile.values())
    healthy = all(f["health_worst_ms"] < HEALTH_MS for f in figures.values())
    out.print(f"hostile specs answered within {ANSWER_MS:.0f} ms: {verdict(answered)}")
    out.print(f"/health under {HEALTH_MS:.0f} ms meanwhile: {verdict(healthy)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="submissions per spec (5)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = ap.parse_args(argv)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aif-hostile-")))
        url = f"sqlite:///{tmp / 'aifactory.db'}"
        demo = stack.enter_context(demo_database(url))
        token = demo.info.tokens["anna@backhaus-kiel.example"]
        env = server_env(url, tmp / "data", AIFACTORY_RECONCILE_SECONDS="0", AIFACTORY_GPU_SLOTS="0")
        app = start_server("app", APP, env, 1, tmp, log)
        stack.callback(app.stop)
        prober = Prober(app.port)
        threading.Thread(target=prober.run, daemon=True).start()
        stack.callback(prober.stop.set)
        figures = {}
        normal = specs()["normal"]
        submit(app.port, token, normal[0], normal[1])  # warm-up: the first request imports and syncs templates
        for name, spec in specs().items():
            log(f"{name}: {args.rounds} submissions")
            figures[name] = measure_spec(app, token, prober, spec, args.rounds)
        print_table(figures)
        if args.json:
            write_json(args.json, figures, log)
        return 0 if all(f["ok"] for f in figures.values()) else 1


if __name__ == "__main__":
    run_main(main, log, "interrupted: the server is stopped and the temporary folder removed")
