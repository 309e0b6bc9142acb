#!/usr/bin/env python
"""Portal load: p50/p95/p99 latency of the portal's main pages under concurrent signed-in clients, on a big
database, against a trivial endpoint of the same server measured the same way in the same run.

What it does
    1. A throwaway database (a SQLite file in a temporary folder; with ``--database-url`` the database
       ``aifactory_bench_portal`` on that PostgreSQL server, dropped at the end), migrated to head, the demo
       factory seeded through the real services (``aifactory.demo.seed_demo``, as of 60 days ago), then the
       volume bulk-inserted with SQLAlchemy Core (``bench/_harness/volume.py``; batches of 5,000, one
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
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _harness.pg import throwaway_pg_database
from _harness.report import logger, run_main, write_json
from _harness.servers import APP, HOST, Server, server_env, start_server
from _harness.volume import check_ledger, seed
from _portal.measure import TARGET_P99_MS, measure, summary
from _portal.pages import BASELINE, PAGE_NAMES, Page, pages, requests_for, sign_in
from _portal.profile import profile_pages
from _portal.report import print_report

PG_DATABASE = "aifactory_bench_portal"
log = logger("portal_load")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
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
        default=",".join(PAGE_NAMES),
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
    args.chosen = [x.strip() for x in args.pages.split(",") if x.strip()]
    if unknown := set(args.chosen) - set(PAGE_NAMES):
        ap.error(f"unknown pages {sorted(unknown)}; known: {', '.join(PAGE_NAMES)}")
    volumes_ok = args.proposals >= 0 and args.jobs >= 0 and 0 <= args.busy_share <= 1
    if min(args.sessions, args.clients, args.requests, args.workers) < 1 or not volumes_ok:
        ap.error("need at least 1 client, request and worker; non-negative volumes; --busy-share in 0..1")
    return args


def seed_database(args: argparse.Namespace, url: str, backend: str, fig: dict[str, Any]) -> tuple[int, int]:
    """The volume in the database (and its proof, when asked for): (the busy project, problems found)."""
    log(f"seeding {args.proposals:,} proposals and {args.jobs:,} jobs on {backend}")
    info = seed(url, args.proposals, args.jobs, busy_share=args.busy_share, rng_seed=args.seed, log=log)
    log(
        "seeded in "
        + ", ".join(f"{k} {v:.1f} s" for k, v in info.seconds.items())
        + f"; busy project {info.busy_project_id} with {info.busy_jobs:,} jobs"
    )
    problems: list[Any] = []
    if args.check_ledger:
        n, problems = check_ledger(url)
        log(f"check_ledger: {n} allocations, {len(problems)} problems" + (f", e.g. {problems[0]}" if problems else ""))
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
    return info.busy_project_id, len(problems)


def sessions_for(server: Server, plist: list[Page], args: argparse.Namespace, password: str) -> dict[str, list[str]]:
    """Sign-ins through the portal's form: ``--sessions`` per person who asks for a page."""
    import httpx

    t0 = time.perf_counter()
    sessions: dict[str, list[str]] = {}
    base = f"http://{HOST}:{server.port}"
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60, trust_env=False) as hc:
        for who in sorted({p.who for p in plist if p.who}):
            sessions[who] = [sign_in(hc, who, password) for _ in range(min(args.clients, args.sessions))]
    n = sum(map(len, sessions.values()))
    log(f"signed in {n} sessions through the form in {time.perf_counter() - t0:.1f} s")
    return sessions


def measure_pages(server: Server, plist: list[Page], args: argparse.Namespace, fig: dict[str, Any]) -> int:
    """The baseline, then each page: the figures in ``fig``; how many failed."""
    from aifactory.demo import DEMO_PASSWORD

    sessions = sessions_for(server, plist, args, DEMO_PASSWORD)
    think_s = args.think_ms / 1000
    base = measure(
        server,
        BASELINE,
        requests_for(server.port, BASELINE, None, args.clients),
        args.requests,
        args.warmup,
        think_s,
        log,
    )
    fig["baseline"] = summary(base, 0.0)
    fig["pages"] = []
    for page in plist:
        reqs = requests_for(server.port, page, sessions.get(page.who) if page.who else None, args.clients)
        res = measure(server, page, reqs, args.requests, args.warmup, think_s, log)
        fig["pages"].append(summary(res, fig["baseline"].get("p99_ms", float("nan"))))
    return sum(1 for r in [fig["baseline"], *fig["pages"]] if r["status"] == "error" or r["errors"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fig: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with ExitStack() as stack:  # the server stopped and the files removed in every case
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aifactory-portal-bench-")))
        if args.database_url:
            url = stack.enter_context(throwaway_pg_database(args.database_url, log, PG_DATABASE))
            backend = "PostgreSQL"
        else:
            url, backend = f"sqlite:///{tmp / 'aifactory.db'}", "SQLite"
        busy, failed = seed_database(args, url, backend, fig)
        env = server_env(url, tmp / "data", AIFACTORY_RECONCILE_SECONDS="0", AIFACTORY_ENV="test")
        server = start_server("portal", APP, env, args.workers, tmp, log)
        stack.callback(server.stop)
        plist = [p for p in pages(busy) if p.name in args.chosen]
        failed += measure_pages(server, plist, args, fig)
        if failed:
            log(f"server log (last lines):\n{server.log_tail()}", markup=False)
        server.stop()
        if args.profile:
            from aifactory.demo import DEMO_PASSWORD

            fig["profile"] = profile_pages(url, tmp / "profile-data", plist, args.profile, DEMO_PASSWORD, log)
    print_report(fig)
    if args.json:
        write_json(args.json, fig, log)
    return 1 if failed else 0


if __name__ == "__main__":
    run_main(main, log, "interrupted; server stopped, temporary files removed")
