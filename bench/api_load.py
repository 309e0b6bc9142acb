#!/usr/bin/env python
"""API load benchmark: the real server with 10,000 proposals against a bare FastAPI endpoint, same run.

What it does
    1. Creates a throwaway database (a SQLite file in a temporary folder, or with ``--database-url`` a
       throwaway database on that PostgreSQL server, dropped at the end), migrates it to head, seeds the
       demo factory (``aifactory.demo.seed_demo``: site, calls, organizations, tokens) and bulk-inserts
       proposals (and partner links) up to ``--proposals`` in total, varied over the demo's calls,
       organizations, statuses and deadlines.
    2. Starts two uvicorn servers as subprocesses on 127.0.0.1 with the same options: the application
       (``--factory aifactory.api.app:create_app``) and ``bench/_harness/bare_app.py`` (the baseline).
    3. For each server: a warm-up, then ``--clients`` concurrent keep-alive clients for ``--duration``
       seconds (closed loop: each client sends its next request as soon as the previous answer is in).
       Application mix: ``GET /api/v1/proposals?limit=20&offset=<random>`` and
       ``GET /api/v1/proposals/<random id>`` as the operator, ``GET /api/v1/calls`` and
       ``GET /api/v1/projects`` as applicants. Every answer must be 200; anything else is counted as an
       error (and a run with errors exits 1).
    4. Prints requests, req/s, p50 and p99 latency, errors per endpoint group and for the baseline, the
       throughput ratio app/bare, and whether the targets are met:
       p99 < 50 ms and app throughput >= 40 % of the bare endpoint's; and the CPU (in cores) that the servers,
       the load generator, PostgreSQL and everything else used in each phase.

    ``--rate R`` paces the clients to R requests per second in all (open loop) instead of the closed loop:
    the closed loop measures capacity, and its latency is mostly queueing (50 clients / throughput, Little's
    law); a paced run measures latency at a given load. Exit status: 0, or 1 when any request failed (warm-up
    included) -- missed targets are reported, not turned into a failure.

Run (from the repository root)::

    .venv/bin/python bench/api_load.py                      # SQLite, 1 worker, 10 s per phase
    .venv/bin/python bench/api_load.py --workers 2
    .venv/bin/python bench/api_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/api_load.py --json > figures.json

``--database-url`` names a PostgreSQL server (any database on it that the user may connect to, usually
``postgres``); the benchmark creates ``aifactory_bench_<pid>`` there and drops it afterwards.

Caveat: the load generator runs on the same machine as the servers and takes CPU from them; the
per-phase CPU figures (server and client, in cores) are printed so that this can be judged.
All traffic goes to 127.0.0.1; servers are killed and temporary files removed in every case.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from contextlib import ExitStack
from pathlib import Path

from _api.figures import LoadPlan, figures, print_table, run_phase
from _api.mix import APPLICANTS, DEFAULT_MIX, GROUPS, OPERATOR, app_requester, bare_requester, parse_mix
from _api.seed import Fixture, prepare_database
from _harness.pg import throwaway_pg_database
from _harness.report import logger, run_main
from _harness.servers import APP, BARE, Server, bare_path, http_get_json, server_env, start_server

log = logger("api_load")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--proposals", type=int, default=10_000, help="proposals in the database (default 10000)")
    ap.add_argument("--clients", type=int, default=50, help="concurrent keep-alive clients (default 50)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds measured per server (default 10)")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per server (default 2)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for both servers (default 1)")
    ap.add_argument(
        "--database-url",
        help="a PostgreSQL server to run against (a throwaway database is created "
        "on it and dropped); default: a SQLite file in a temporary folder",
    )
    ap.add_argument("--mix", default=DEFAULT_MIX, help=f"endpoint weights (default {DEFAULT_MIX})")
    ap.add_argument("--page-size", type=int, default=20, help="limit of the proposals list (default 20)")
    ap.add_argument(
        "--bare-endpoint",
        choices=["sync", "async"],
        default="sync",
        help="baseline endpoint: plain def, run in the threadpool like the app's (default), or async",
    )
    ap.add_argument(
        "--rate",
        type=float,
        default=None,
        help="pace the clients to this many requests per second in all (open loop, latency counted "
        "from when each request was due) instead of the default closed loop at full speed; "
        "shows latency at a given load, while the closed loop shows capacity",
    )
    ap.add_argument("--seed", type=int, default=1, help="random seed for data and request choice")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON on stdout instead of a table")
    args = ap.parse_args(argv)
    args.mix_weights = parse_mix(args.mix)
    if not 1 <= args.clients <= 1000 or args.duration <= 0 or args.workers < 1 or args.proposals < 0:
        ap.error("need 1..1000 clients, a positive duration, at least 1 worker and proposals >= 0")
    if args.rate is not None and args.rate <= 0:
        ap.error("--rate must be positive")
    return args


def check_app(app: Server, fixture: Fixture, page_size: int) -> None:
    """Before the load: the list sees every proposal, and each endpoint answers as expected."""
    op_token = fixture.tokens[OPERATOR]
    page = http_get_json(app.port, f"/api/v1/proposals?limit={page_size}&offset=0", op_token)
    if page["total"] != fixture.total_proposals or len(page["items"]) != min(page_size, fixture.total_proposals):
        raise RuntimeError(
            f"proposals list: total {page['total']}, {len(page['items'])} items; expected {fixture.total_proposals}"
        )
    http_get_json(app.port, f"/api/v1/proposals/{fixture.proposal_ids[-1]}", op_token)
    for email in APPLICANTS:
        if not http_get_json(app.port, "/api/v1/projects", fixture.tokens[email])["items"]:
            raise RuntimeError(f"{email} should see a demo project")
        http_get_json(app.port, "/api/v1/calls", fixture.tokens[email])


def measure(args: argparse.Namespace, stack: ExitStack, tmp: Path) -> dict:
    """The database, both servers, both phases: the figures."""
    database = None
    if args.database_url:
        url = stack.enter_context(throwaway_pg_database(args.database_url, log))
        backend, database = "PostgreSQL", url.rsplit("/", 1)[1].split("?")[0]
    else:
        url, backend = f"sqlite:///{tmp / 'aifactory.db'}", "SQLite"
    fixture = prepare_database(url, args.proposals, args.seed, log)
    env = server_env(url, tmp / "data")
    app = start_server("app", APP, env, args.workers, tmp, log)
    stack.callback(app.stop)
    path = bare_path(args.bare_endpoint)
    bare = start_server("bare", BARE, env, args.workers, tmp, log, ready_path=path)
    stack.callback(bare.stop)
    check_app(app, fixture, args.page_size)

    plan = LoadPlan(args.clients, args.duration, args.warmup, args.seed, args.rate)
    groups = [g for g in GROUPS if args.mix_weights.get(g, 0) > 0]
    requester = app_requester(app.port, fixture, args.mix_weights, args.page_size)
    app_result = run_phase("app", app, requester, groups, plan, database, log)
    bare_result = run_phase("bare", bare, bare_requester(bare.port, path), ["bare"], plan, database, log)
    fig = figures(app_result, bare_result, args, fixture, backend)
    for server, key in ((app, "app"), (bare, "bare")):
        if fig[key]["all"]["errors"] or fig[key]["warmup_errors"]:
            log(f"{server.name} server log (last lines):\n{server.log_tail()}", markup=False)
    return fig


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with ExitStack() as stack:  # servers stopped and files removed in every case
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aifactory-bench-")))
        fig = measure(args, stack, tmp)
    if args.json:
        print(json.dumps(fig, indent=2))
    else:
        print_table(fig)
    errors = sum(fig[k]["all"]["errors"] + fig[k]["warmup_errors"] for k in ("app", "bare"))
    if errors:
        log(f"{errors} requests failed (warm-up included): the figures are not valid")
        return 1
    return 0


if __name__ == "__main__":
    run_main(main, log, "interrupted")  # servers and files are already cleaned up by then
