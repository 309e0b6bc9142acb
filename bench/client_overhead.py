#!/usr/bin/env python
"""Why ``api_load.py`` drives load with raw asyncio streams: client CPU per request, raw vs httpx.

Starts ``bench/_harness/bare_app.py`` under uvicorn on 127.0.0.1 and drives it with the same number of
keep-alive clients for a few seconds each: with the raw HTTP/1.1 client of the benches
(``_harness/http_load.py``), with one shared ``httpx.AsyncClient`` (a pool of as many connections as clients),
with one ``httpx.AsyncClient`` per client, and with the raw client again. Prints req/s and the load generator's
CPU time per request: on a machine whose cores the generator shares with the server, that cost is taken from
the server, so the cheaper client is the one that distorts the figures less.

    .venv/bin/python bench/client_overhead.py [--clients 50] [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _harness.http_load import get_request, run_async, run_load
from _harness.report import logger
from _harness.servers import BARE, HOST, Server, bare_path, start_server

log = logger("client_overhead")


async def _httpx_phase(port: int, path: str, clients: int, duration: float, shared: bool) -> tuple[int, int, float]:
    """One AsyncClient with a pool of ``clients`` connections (shared), or one client per task."""
    ok = errors = 0
    base = f"http://{HOST}:{port}"
    limits = httpx.Limits(max_connections=clients if shared else 1, max_keepalive_connections=clients)
    pool = httpx.AsyncClient(base_url=base, limits=limits, trust_env=False) if shared else None
    stop_at = time.perf_counter() + duration

    async def one() -> None:
        nonlocal ok, errors
        c = pool or httpx.AsyncClient(base_url=base, limits=limits, trust_env=False)
        try:
            while time.perf_counter() < stop_at:
                try:
                    r = await c.get(path)
                    ok, errors = (ok + 1, errors) if r.status_code == 200 else (ok, errors + 1)
                except httpx.HTTPError:
                    errors += 1
        finally:
            if pool is None:
                await c.aclose()

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    if pool is not None:
        await pool.aclose()
    return ok, errors, time.perf_counter() - t0


def _phase(name: str, server: Server, path: str, clients: int, duration: float) -> tuple[int, int, float]:
    """(answers, errors, seconds) of one client kind."""
    if name != "raw":
        return run_async(_httpx_phase(server.port, path, clients, duration, shared=name == "httpx-shared"))
    request = get_request(server.port, path)
    elapsed, stats = run_load(server.port, [lambda _r: ("bare", request)] * clients, ["bare"], duration=duration)
    return len(stats["bare"].latencies_ms), stats["bare"].errors, elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--endpoint", choices=["sync", "async"], default="async")
    args = ap.parse_args()
    path = bare_path(args.endpoint)
    with tempfile.TemporaryDirectory(prefix="aifactory-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIFACTORY_")}
        server = start_server("bare", BARE, env, 1, Path(tmp), log, ready_path=path)
        try:
            print(f"{'client':<14}{'req/s':>10}{'client CPU µs/req':>20}{'server CPU µs/req':>20}{'errors':>8}")
            for name in ("raw", "httpx-shared", "httpx-each", "raw"):
                s0, c0 = server.cpu_seconds(), time.process_time()
                ok, errors, elapsed = _phase(name, server, path, args.clients, args.duration)
                client_us = (time.process_time() - c0) / max(ok, 1) * 1e6
                server_us = (server.cpu_seconds() - s0) / max(ok, 1) * 1e6
                print(f"{name:<14}{ok / elapsed:>10.0f}{client_us:>20.0f}{server_us:>20.0f}{errors:>8}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
