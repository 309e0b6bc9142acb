#!/usr/bin/env python
"""Portal load: p50/p95/p99 latency of the portal's main pages under concurrent signed-in clients, on a big
database, against a trivial endpoint of the same server measured the same way in the same run.

What it does
    1. A throwaway database (a SQLite file in a temporary folder; with ``--database-url`` the database
       ``aifactory_bench_portal`` on that PostgreSQL server, dropped at the end), migrated to head, the demo
       factory seeded through the real services (``aifactory.demo.seed_demo``, as of 60 days ago), then the
       volume bulk-inserted with SQLAlchemy Core (``bench/_portal_seed.py``; batches of 5,000, one
       transaction): ``--proposals`` proposals (default 10,000) over 18 months with their organizations,
       users, reviews, projects, allocations, and ``--jobs`` jobs (default 100,000; ``--busy-share`` of them,
       5 %, in the bakery's project) with job events, ledger entries (reserve, charge, release; the
       allocations' running sums equal to them -- ``check_ledger`` proves it) and audit events. Seed time is
       printed per step.
    2. The real server: uvicorn with ``--factory aifactory.api.app:create_app`` (what ``aifactory serve``
       runs) on 127.0.0.1, ``AIFACTORY_ENV=test``, the reconciler off, ``--workers`` processes (default 1).
    3. Sign-in through the portal's form (GET /login for the ``aif_csrf`` cookie and the ``csrf_token``
       input, POST /login): ``--sessions`` sessions (5) for the bakery PI (``anna@backhaus-kiel.example``,
       member of the busy project) and as many for the operator, shared round-robin by the clients.
    4. Per page, one after the other: ``--warmup`` requests, then ``--requests`` requests from ``--clients``
       concurrent keep-alive clients (closed loop: a client sends its next request when the answer is in),
       latency per request. Pages:
         project     GET /projects/{busy}          the PI
         jobs        GET /projects/{busy}/jobs     the PI, with ``HX-Request: true`` (the htmx poll)
         kpis        GET /operator/kpis            the operator
         decisions   GET /operator                 the operator
         home        GET /                         anonymous
       Baseline: ``GET /api/v1/health`` (no database, no template), measured the same way, first.
       A page that answers 404 is reported as missing (not built yet) and skipped; the run goes on.
    5. Prints p50/p95/p99/max, req/s, the server's CPU per request and p99(page)/p99(baseline) per page, and
       whether p99 < 150 ms. ``--json FILE`` writes all figures.

    Closed loop with C clients: latency ≈ C / throughput (Little's law) once the server is saturated, so
    the p99 target means a page may cost at most about 150 ms / 25 = 6 ms of server time (one worker).
    ``--profile N`` runs each page in this process afterwards (the app without uvicorn, FastAPI's thread pool
    replaced by inline calls): its first request alone (cold: what caches hide) and N more, with the SQL
    each runs (statements per request, time per statement, the slowest ones) and the top of a cProfile:
    where the time goes. The "first ms" column is the same cold request against the server.

Run (from the repository root)::

    .venv/bin/python bench/portal_load.py --quick               # 1,000 proposals, 5,000 jobs, 100 requests
    .venv/bin/python bench/portal_load.py                       # 10,000 proposals, 100,000 jobs, 400 requests
    .venv/bin/python bench/portal_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/portal_load.py --quick --profile 20 --json figures.json

Caveat: the load generator shares the machine with the server (its CPU is printed). Exit status: 0, or 1
when a measured page answered anything but 200 (missing pages and missed targets are reported, not failures).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import re
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import _portal_seed as seedmod  # noqa: E402
from api_load import (
    HOST,
    HttpError,
    Server,
    _event_loop_runner,
    _read_response,
    percentile,  # noqa: E402
    start_server,
    throwaway_pg_database,
)

TARGET_P99_MS = 150.0
OPERATOR = "operator@jaif.example"
PG_DATABASE = "aifactory_bench_portal"
BASELINE = ("baseline", "/api/v1/health", None, {})

err = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 160)


def log(msg: str) -> None:
    err.print(f"[dim]\\[portal_load {time.strftime('%H:%M:%S')}][/dim] {msg}", highlight=False)


def pages(project_id: int) -> list[tuple[str, str, str | None, dict[str, str]]]:
    """(name, path, who: e-mail or None for anonymous, extra headers)."""
    return [
        ("project", f"/projects/{project_id}", seedmod.ANNA, {}),
        ("jobs", f"/projects/{project_id}/jobs", seedmod.ANNA, {"HX-Request": "true"}),
        ("kpis", "/operator/kpis", OPERATOR, {}),
        ("decisions", "/operator", OPERATOR, {}),
        ("home", "/", None, {}),
    ]


# --------------------------------------------------------------------------------------------------------------
# Sign-in through the form
# --------------------------------------------------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


def sign_in(client: Any, email: str, password: str) -> str:
    """The ``aif_session`` cookie after the portal's sign-in form (``client``: an httpx.Client or a Starlette
    TestClient, not following redirects)."""
    client.cookies.clear()
    page = client.get("/login", params={"next": "/"})
    m = CSRF_INPUT.search(page.text)
    if page.status_code != 200 or m is None or "aif_csrf" not in client.cookies:
        raise RuntimeError(
            f"GET /login: HTTP {page.status_code}, csrf input {'found' if m else 'missing'}, "
            f"cookies {list(client.cookies.keys())}"
        )
    resp = client.post("/login", data={"email": email, "password": password, "csrf_token": m.group(1), "next": "/"})
    session = resp.cookies.get("aif_session") or client.cookies.get("aif_session")
    if resp.status_code not in (302, 303) or not session:
        raise RuntimeError(f"POST /login as {email}: HTTP {resp.status_code}: {resp.text[:300]!r}")
    client.cookies.clear()
    return session


# --------------------------------------------------------------------------------------------------------------
# Load: C keep-alive clients, N requests in all (closed loop)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class PageResult:
    name: str
    path: str
    status: str = "ok"  # ok | missing | error
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    bytes_per_response: int = 0
    first_ms: float = float("nan")  # the first request, alone (cold caches)
    note: str = ""

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)


async def _client(
    port: int, requests: list[bytes], left: list[int], res: PageResult, i: int, think_s: float = 0.0
) -> None:
    writer = None
    pause = random.Random(i)
    try:
        while left[0] > 0:
            left[0] -= 1
            if think_s > 0:  # a person reading the page before the next click (exponential, mean think_s)
                await asyncio.sleep(pause.expovariate(1 / think_s))
            t0 = time.perf_counter()
            try:
                reused = writer is not None
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(requests[i])
                try:
                    status, body, keep_alive = await _read_response(reader)
                except asyncio.IncompleteReadError as exc:
                    if not reused or exc.partial:  # a fresh connection that fails is a real error
                        raise
                    # the server closed an idle keep-alive connection while this client "read the page":
                    # reconnect and send again, as a browser does
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
                    writer.write(requests[i])
                    status, body, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as exc:
                res.error(f"{type(exc).__name__}: {exc}")
                if writer is not None:
                    writer.close()
                    writer = None
                await asyncio.sleep(0.01)
                continue
            ms = (time.perf_counter() - t0) * 1000.0
            if status == 200:
                res.latencies_ms.append(ms)
                res.bytes_per_response = len(body)
            else:
                res.error(f"HTTP {status}: {body[:160]!r}")
            if not keep_alive:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def _load(
    port: int, requests: list[bytes], n: int, res: PageResult, timeout: float, think_s: float = 0.0
) -> float:
    left = [n]
    t0 = time.perf_counter()
    tasks = [asyncio.ensure_future(_client(port, requests, left, res, i, think_s)) for i in range(len(requests))]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
        res.error(f"a client still waited for an answer after {timeout:.0f} s")
    for task in done:
        if task.exception() is not None:
            res.error(f"client failed: {task.exception()!r}")
    return time.perf_counter() - t0


def build_requests(
    port: int, path: str, cookies: list[str] | None, headers: dict[str, str], clients: int
) -> list[bytes]:
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    accept = "application/json" if path.startswith("/api/") else "text/html"
    reqs = []
    for i in range(clients):
        cookie = f"Cookie: aif_session={cookies[i % len(cookies)]}\r\n" if cookies else ""
        reqs.append(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: {accept}\r\n{cookie}{extra}\r\n".encode())
    return reqs


def probe(port: int, request: bytes) -> tuple[int, bytes, float]:
    """One request alone (the first of the page since the server started): status, body, milliseconds."""

    async def one() -> tuple[int, bytes, float]:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            t0 = time.perf_counter()
            writer.write(request)
            status, body, _ = await asyncio.wait_for(_read_response(reader), 120)
            return status, body, (time.perf_counter() - t0) * 1000
        finally:
            writer.close()

    return asyncio.run(one())


def measure(
    server: Server, name: str, path: str, requests: list[bytes], n: int, warmup: int, think_s: float = 0.0
) -> PageResult:
    res = PageResult(name, path)
    status, body, res.first_ms = probe(server.port, requests[0])
    if status == 404:
        res.status, res.note = "missing", "404: not built yet"
        log(f"{name}: GET {path} answers 404 -- reported as missing")
        return res
    if status != 200:
        res.status, res.note = "error", f"HTTP {status}: {body[:200]!r}"
        log(f"[red]{name}: GET {path} answers {status}[/red]: {body[:300]!r}")
        return res
    runner = _event_loop_runner()
    if warmup:
        warm = PageResult(name, path)
        runner(_load(server.port, requests, warmup, warm, 300))
        if warm.errors:
            log(f"[yellow]{name}: {warm.errors} errors in the warm-up, e.g. {warm.error_samples[0]}[/yellow]")
    cpu0, client0 = server.cpu_seconds(), time.process_time()
    res.elapsed_s = runner(_load(server.port, requests, n, res, 600, think_s))
    res.server_cpu_s, res.client_cpu_s = server.cpu_seconds() - cpu0, time.process_time() - client0
    lat = sorted(res.latencies_ms)
    log(
        f"{name}: {len(lat)} requests in {res.elapsed_s:.1f} s, p50 {percentile(lat, 50):.1f} ms, "
        f"p99 {percentile(lat, 99):.1f} ms" + (f", {res.errors} errors" if res.errors else "")
    )
    return res


def summary(r: PageResult, base_p99: float, clients: int) -> dict[str, Any]:
    lat = sorted(r.latencies_ms)
    n = len(lat)
    d: dict[str, Any] = {
        "page": r.name,
        "path": r.path,
        "status": r.status,
        "note": r.note,
        "requests": n,
        "errors": r.errors,
        "error_samples": r.error_samples,
    }
    if r.status != "ok":
        return d
    p99 = percentile(lat, 99)
    d.update(
        req_per_s=n / r.elapsed_s if r.elapsed_s else float("nan"),
        p50_ms=percentile(lat, 50),
        p95_ms=percentile(lat, 95),
        p99_ms=p99,
        max_ms=lat[-1] if lat else float("nan"),
        mean_ms=sum(lat) / n if n else float("nan"),
        server_cpu_ms_per_req=r.server_cpu_s * 1000 / n if n else float("nan"),
        client_cpu_cores=r.client_cpu_s / r.elapsed_s if r.elapsed_s else 0.0,
        server_cpu_cores=r.server_cpu_s / r.elapsed_s if r.elapsed_s else 0.0,
        bytes=r.bytes_per_response,
        first_ms=r.first_ms,
        p99_over_baseline=p99 / base_p99 if base_p99 else 1.0,
        p99_met=p99 < TARGET_P99_MS,
    )
    return d


# --------------------------------------------------------------------------------------------------------------
# Profile in process: the SQL per page, and a cProfile
# --------------------------------------------------------------------------------------------------------------


def profile_pages(
    url: str, data_dir: Path, plist: list[tuple[str, str, str | None, dict[str, str]]], n: int, password: str
) -> list[dict[str, Any]]:
    """The app driven in this thread (httpx's ASGI transport; FastAPI's thread pool replaced by inline calls so
    that cProfile sees the endpoint's work): per page, wall time, every SQL statement timed, top functions."""
    import fastapi.dependencies.utils as fdu
    import fastapi.routing as frt
    import httpx
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from aifactory.api.app import create_app
    from aifactory.config import Settings

    async def inline(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        return func(*args, **kwargs)

    saved = (frt.run_in_threadpool, fdu.run_in_threadpool)
    frt.run_in_threadpool = fdu.run_in_threadpool = inline  # type: ignore[assignment]
    settings = Settings(_env_file=None, database_url=url, data_dir=data_dir, reconcile_seconds=0, env="test")
    settings.ensure_dirs()
    stmts: dict[str, list[float]] = {}
    on = [False]

    def before(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        conn.info.setdefault("t0", []).append(time.perf_counter())

    def after(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        ms = (time.perf_counter() - conn.info["t0"].pop()) * 1000
        if on[0]:
            stmts.setdefault(" ".join(statement.split()), []).append(ms)

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    results: list[dict[str, Any]] = []

    async def run() -> None:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}", follow_redirects=False) as ac:
            cookies = {}
            for who in sorted({p[2] for p in plist if p[2]}):
                ac.cookies.clear()
                page = await ac.get("/login")
                m = CSRF_INPUT.search(page.text)
                resp = await ac.post(
                    "/login",
                    data={"email": who, "password": password, "next": "/", "csrf_token": m.group(1) if m else ""},
                )
                cookies[who] = resp.cookies.get("aif_session") or ac.cookies.get("aif_session")
            for name, path, who, headers in plist:
                ac.cookies.clear()
                hdrs = dict(headers, Cookie=f"aif_session={cookies[who]}") if who else headers
                entry: dict[str, Any] = {"page": name, "path": path, "requests": n}
                for phase, count in (("cold", 1), ("warm", n)):  # cold: the page's first request (empty caches)
                    stmts.clear()
                    on[0] = True
                    prof = cProfile.Profile()
                    t0 = time.perf_counter()
                    prof.enable()
                    for _ in range(count):
                        status = (await ac.get(path, headers=hdrs)).status_code
                    prof.disable()
                    wall = (time.perf_counter() - t0) * 1000 / count
                    on[0] = False
                    if status != 200:
                        break
                    top = sorted(stmts.items(), key=lambda kv: -sum(kv[1]))[:8]
                    buf = io.StringIO()
                    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
                    tot = buf.getvalue()
                    buf = io.StringIO()
                    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(
                        r"aifactory|jinja2|sqlalchemy/orm", 25
                    )
                    cum = buf.getvalue()
                    entry[phase] = {
                        "requests": count,
                        "wall_ms_per_req": wall,
                        "sql_statements_per_req": sum(len(v) for v in stmts.values()) / count,
                        "sql_ms_per_req": sum(sum(v) for v in stmts.values()) / count,
                        "top_sql": [
                            {
                                "ms_per_req": sum(v) / count,
                                "calls_per_req": len(v) / count,
                                "ms_per_call": sum(v) / len(v),
                                "sql": s[:600],
                            }
                            for s, v in top
                        ],
                        "top_tottime": tot[tot.find("ncalls") - 2 :],
                        "top_cumulative": cum[cum.find("ncalls") - 2 :],
                    }
                    log(
                        f"profile {name} ({phase}): {wall:.1f} ms/request in process (profiled), SQL "
                        f"{entry[phase]['sql_ms_per_req']:.1f} ms in {entry[phase]['sql_statements_per_req']:.1f} "
                        "statements"
                    )
                if "warm" in entry:
                    results.append(entry)

    try:
        asyncio.run(run())
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)
        frt.run_in_threadpool, fdu.run_in_threadpool = saved  # type: ignore[assignment]
    return results


# --------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------


def print_report(fig: dict[str, Any]) -> None:
    c = fig["config"]
    s = fig["seed"]
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
    t = Table(title=f"Latency under {c['clients']} concurrent clients ({c['load']}), target p99 < {TARGET_P99_MS:g} ms")
    for col in (
        "page",
        "path",
        "first ms",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "p99/base",
        "srv CPU ms/req",
        "KB",
        "errors",
        "p99 target",
    ):
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
            f"{r['first_ms']:.1f}",
            f"{r['req_per_s']:.1f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            f"{r['max_ms']:.1f}",
            f"{r['p99_over_baseline']:.1f}",
            f"{r['server_cpu_ms_per_req']:.1f}",
            f"{r['bytes'] / 1024:.1f}",
            str(r["errors"]),
            verdict,
        )
    out.print(t)
    cores = [r for r in [fig["baseline"], *fig["pages"]] if r["status"] == "ok"]
    if cores:
        out.print(
            "CPU cores busy (server / load generator): "
            + ", ".join(f"{r['page']} {r['server_cpu_cores']:.2f}/{r['client_cpu_cores']:.2f}" for r in cores)
        )
    for r in [fig["baseline"], *fig["pages"]]:
        for sample in r["error_samples"][:2]:
            out.print(f"[red]error sample [{r['page']}][/red]: {sample}", highlight=False)
    for p in fig.get("profile", []):
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


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--proposals", type=int, default=None, help="proposals in all (10000; --quick: 1000)")
    ap.add_argument("--jobs", type=int, default=None, help="jobs in all (100000; --quick: 5000)")
    ap.add_argument("--busy-share", type=float, default=0.05, help="share of the jobs in the busy project (0.05)")
    ap.add_argument("--clients", type=int, default=25, help="concurrent clients (25)")
    ap.add_argument("--requests", type=int, default=None, help="measured requests per page (400; --quick: 100)")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up requests per page (2 x clients)")
    ap.add_argument(
        "--sessions",
        type=int,
        default=5,
        help="portal sessions per signed-in user, shared round-robin by the clients (5; each "
        "sign-in costs an argon2 hash)",
    )
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (1)")
    ap.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause of each client between requests, like a person reading (0: closed loop)",
    )
    ap.add_argument(
        "--database-url",
        help="a PostgreSQL server: the database aifactory_bench_portal is created "
        "there and dropped at the end; default: a SQLite file in a temp folder",
    )
    ap.add_argument("--quick", action="store_true", help="a smoke run: 1000 proposals, 5000 jobs, 100 requests")
    ap.add_argument(
        "--pages",
        default=",".join(p[0] for p in pages(0)),
        help="the pages to measure, comma-separated (default: all: %(default)s)",
    )
    ap.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=20,
        default=0,
        metavar="N",
        help="afterwards, N requests per page in process: SQL per page and a cProfile (N: 20)",
    )
    ap.add_argument("--check-ledger", action="store_true", help="prove the seeded ledger with check_ledger")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the data (1)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = ap.parse_args(argv)
    args.proposals = args.proposals if args.proposals is not None else 1_000 if args.quick else 10_000
    args.jobs = args.jobs if args.jobs is not None else 5_000 if args.quick else 100_000
    args.requests = args.requests if args.requests is not None else 100 if args.quick else 400
    args.warmup = args.warmup if args.warmup is not None else 2 * args.clients
    chosen = [x.strip() for x in args.pages.split(",") if x.strip()]
    if unknown := set(chosen) - {p[0] for p in pages(0)}:
        ap.error(f"unknown pages {sorted(unknown)}; known: {', '.join(p[0] for p in pages(0))}")
    if (
        args.sessions < 1
        or args.clients < 1
        or args.requests < 1
        or args.workers < 1
        or args.proposals < 0
        or args.jobs < 0
        or not 0 <= args.busy_share <= 1
    ):
        ap.error("need at least 1 client, request and worker; non-negative volumes; --busy-share in 0..1")

    from aifactory.demo import DEMO_PASSWORD

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl-C: server stopped, files removed
    fig: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}
    failed = 0
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aifactory-portal-bench-")))
        if args.database_url:
            url = stack.enter_context(throwaway_pg_database(args.database_url, PG_DATABASE, log))
            backend = "PostgreSQL"
        else:
            url, backend = f"sqlite:///{tmp / 'aifactory.db'}", "SQLite"
        log(f"seeding {args.proposals:,} proposals and {args.jobs:,} jobs on {backend}")
        info = seedmod.seed(url, args.proposals, args.jobs, busy_share=args.busy_share, rng_seed=args.seed, log=log)
        log(
            "seeded in "
            + ", ".join(f"{k} {v:.1f} s" for k, v in info.seconds.items())
            + f"; busy project {info.busy_project_id} with {info.busy_jobs:,} jobs"
        )
        if args.check_ledger:
            n, problems = seedmod.check_ledger(url)
            log(
                f"check_ledger: {n} allocations, {len(problems)} problems"
                + (f", e.g. {problems[0]}" if problems else "")
            )
            if problems:
                failed += 1
        fig["seed"] = {
            "counts": info.counts,
            "seconds": info.seconds,
            "busy_project_id": info.busy_project_id,
            "busy_jobs": info.busy_jobs,
        }
        fig["config"] = {
            "database": backend,
            "proposals": args.proposals,
            "jobs": args.jobs,
            "clients": args.clients,
            "requests": args.requests,
            "warmup": args.warmup,
            "workers": args.workers,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "target_p99_ms": TARGET_P99_MS,
            "load": f"think {args.think_ms:g} ms" if args.think_ms else "closed loop",
        }

        env = {k: v for k, v in os.environ.items() if not k.startswith("AIFACTORY_")}
        env.update(
            AIFACTORY_DATABASE_URL=url,
            AIFACTORY_DATA_DIR=str(tmp / "data"),
            AIFACTORY_RECONCILE_SECONDS="0",
            AIFACTORY_ENV="test",
            PYTHONUNBUFFERED="1",
        )
        server = start_server(
            "portal", ["--factory", "aifactory.api.app:create_app"], env, args.workers, tmp, "/api/v1/health"
        )
        stack.callback(server.stop)

        import httpx

        plist = [p for p in pages(info.busy_project_id) if p[0] in chosen]
        t0 = time.perf_counter()
        sessions: dict[str, list[str]] = {}
        with httpx.Client(
            base_url=f"http://{HOST}:{server.port}", follow_redirects=False, timeout=60, trust_env=False
        ) as hc:
            for who in sorted({p[2] for p in plist if p[2]}):
                sessions[who] = [sign_in(hc, who, DEMO_PASSWORD) for _ in range(min(args.clients, args.sessions))]
        log(
            f"signed in {sum(map(len, sessions.values()))} sessions through the form in "
            f"{time.perf_counter() - t0:.1f} s"
        )

        name, path, _, headers = BASELINE
        base = measure(
            server,
            name,
            path,
            build_requests(server.port, path, None, headers, args.clients),
            args.requests,
            args.warmup,
            args.think_ms / 1000,
        )
        base_p99 = percentile(sorted(base.latencies_ms), 99)
        fig["baseline"] = summary(base, 0.0, args.clients)
        fig["pages"] = []
        for name, path, who, headers in plist:
            reqs = build_requests(server.port, path, sessions.get(who) if who else None, headers, args.clients)
            res = measure(server, name, path, reqs, args.requests, args.warmup, args.think_ms / 1000)
            fig["pages"].append(summary(res, base_p99, args.clients))
        failed += sum(1 for r in [fig["baseline"], *fig["pages"]] if r["status"] == "error" or r["errors"])
        if failed:
            log(f"server log (last lines):\n{server.log_tail()}")
        server.stop()
        if args.profile:
            fig["profile"] = profile_pages(url, tmp / "profile-data", plist, args.profile, DEMO_PASSWORD)
    print_report(fig)
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2, default=str))
        log(f"figures written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the server is stopped and the files removed by then
        log("interrupted; server stopped, temporary files removed")
        sys.exit(130)
