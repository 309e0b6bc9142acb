#!/usr/bin/env python
"""Job submission throughput: the gateway against raw ``sbatch`` on the real local Slurm, and the gateway's
per-job overhead with the local backend -- every figure and ratio measured in the same run.

Slurm part (needs the local cluster; ``scripts/slurm-dev-cluster start`` is run when it does not answer)
    A real ``aifactory`` API served by uvicorn on 127.0.0.1 (AIFACTORY_BACKEND=slurm, a fresh demo-seeded
    SQLite database in a temporary folder, the reconciler off). Jobs are trivial: ``true``, 1 minute, no GPU,
    partition ``booster``, in project 1 (the bakery PI's playground allocation).
      warm-up   2 submits; the first provisions the project's Slurm account (sacctmgr), timed apart
      (b)  raw  ``sbatch --parsable --account ACCT --partition booster --time 1 --output ... --wrap true``
                N times, sequentially and from C concurrent submitters
      (a)  API  N ``POST /api/v1/jobs`` (single jobs), one keep-alive client and C concurrent clients;
                jobs/s from the first request to the last 201
      (c)  sweep one spec with ``array: {range: 0-(N-1)}`` through the API: tasks/s (median of --sweeps)
    Phases alternate raw / API so that both see the same cluster state. After each phase everything it
    submitted is cancelled, the queue is left to drain, and one reconciler pass (run here, against the
    server's database) settles the cancelled jobs, so every phase starts with no open jobs.
    Ratios: (a)/(b) (target >= 0.8) and (c)/(b) (target >= 5), sequential against sequential, plus the
    concurrent ones for information.

Local part
    M trivial jobs (``true``) through the gateway with the local backend (gpu_slots=0; its submit spawns
    the task at once, since it ends with a poll): ``services.jobs.submit_job`` in this process with the real
    LocalBackend and a real SQLite store, and ``POST /api/v1/jobs`` against a uvicorn server with the local
    backend. Baseline: a bare ``subprocess.Popen(["true"]).wait()``, M times, in the same run.
    Per-job gateway overhead = mean submit time - mean bare spawn; target < 20 ms.

Run (from the repository root)::

    .venv/bin/python bench/submit_throughput.py [--jobs 300] [--local-jobs 1000] [--clients 8]
                                                 [--skip-slurm] [--skip-local] [--json FILE] [--profile]

``--profile`` adds a cProfile of gateway submits (in this process; Slurm and local) and prints where the
time goes. Everything submitted is cancelled at the end (by id, and by account for the gateway's jobs), the
servers are stopped and the temporary folders removed, also on Ctrl-C, SIGTERM and errors. If this run
created the project's Slurm account, it is removed again. Exit status: 0, or 1 when a submission failed
(missed targets are reported, not turned into a failure).
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

from _harness.report import logger, run_main, write_json
from _submit.local_part import local_part
from _submit.profile import profile_all
from _submit.report import print_report
from _submit.slurm_part import SlurmBench

log = logger("submit_throughput")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--jobs", type=int, default=300, help="jobs per Slurm phase, and tasks of the sweep (300)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients / submitters (8)")
    ap.add_argument("--sweeps", type=int, default=3, help="sweeps submitted for (c); the median counts (3)")
    ap.add_argument("--local-jobs", type=int, default=1000, help="jobs through the local backend (1000)")
    ap.add_argument("--skip-slurm", action="store_true", help="only the local part")
    ap.add_argument("--skip-local", action="store_true", help="only the Slurm part")
    ap.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=30,
        default=0,
        metavar="N",
        help="also cProfile N gateway submits in process per backend (default N: 30)",
    )
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = ap.parse_args(argv)
    if not 1 <= args.jobs <= 1000 or args.clients < 1 or args.sweeps < 1 or args.local_jobs < 1:
        ap.error("--jobs must be 1..1000 (MaxArraySize), --clients, --sweeps and --local-jobs at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fig: dict[str, Any] = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aifactory-submit-bench-")))
        if not args.skip_slurm:
            with ExitStack() as slurm_stack:  # the cluster is cleaned before the local part starts
                fig["slurm"] = SlurmBench(args, slurm_stack, tmp).run()
        if not args.skip_local:
            with ExitStack() as local_stack:
                fig["local"] = local_part(args, local_stack, tmp)
        if args.profile:
            fig["profile"] = profile_all(args, tmp)
    print_report(fig)
    if args.json:
        write_json(args.json, fig, log)
    failed = sum(r["failed"] for r in fig.get("slurm", {}).get("phases", [])) + fig.get("local", {}).get("failed", 0)
    return 1 if failed else 0


if __name__ == "__main__":
    run_main(main, log, "interrupted; submitted jobs cancelled, servers stopped, temporary files removed")
