"""``--profile``: a cProfile of gateway submits in this process (Slurm and local), and where the time goes."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _harness.report import profile_top

from . import cluster
from .common import gateway, job_doc, pi_actor, prepare_database, uow_factory
from .local_part import drain_local

CATEGORIES = [  # (label, file substring, function name): cumulative time of these functions
    ("sbatch (subprocess)", "slurm/client.py", "sbatch"),
    ("sacctmgr (provisioning)", "slurm/client.py", "_sacctmgr_add"),
    ("subprocess.run (all)", "subprocess.py", "run"),
    ("spec validation (jsonschema)", "jobs/spec.py", "validate_document"),
    ("parse_spec (all)", "jobs/spec.py", "parse_spec"),
    ("admission (_admit)", "services/jobs.py", "_admit"),
    ("open_jobs query", "store/repositories.py", "open_jobs"),
    ("DB commits (Session.commit)", "orm/session.py", "commit"),
    ("submit_job_or_existing (the whole submit)", "services/jobs.py", "submit_job_or_existing"),
    ("_send: provision + backend + 2nd transaction", "services/jobs.py", "_send"),
    ("SQLite BEGIN IMMEDIATE (uow enter)", "store/uow.py", "__enter__"),
    ("handoff (job dir mkdir)", "services/jobs.py", "_handoff"),
    ("audit record", "services/audit.py", "record"),
    ("backend.submit (Slurm)", "slurm/backend.py", "submit"),
    ("render_sbatch", "slurm/script.py", "render_sbatch"),
    ("backend.submit (local)", "backends/local.py", "submit"),
    ("local poll", "backends/local.py", "_poll_locked"),
    ("local spawn (Popen)", "backends/local_proc.py", "spawn"),
    ("local atomic writes", "backends/local_proc.py", "write"),
    ("local group_members (/proc scan)", "backends/local_proc.py", "group_members"),
    ("os.fsync", "~", "<built-in method posix.fsync>"),
    ("mkdir", "pathlib", "mkdir"),
]


def _per_category(prof: cProfile.Profile, n: int) -> dict[str, float]:
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]  # the raw table: not in typeshed
    per_job: dict[str, float] = {}
    for label, file_part, func in CATEGORIES:
        total = sum(v[3] for (f, _l, fn), v in stats.items() if fn == func and file_part in f)
        if total:
            per_job[label] = total * 1000 / n
    return per_job


def profile_submits(
    backend: str, n: int, tmp: Path, stack: ExitStack, slurm: cluster.SlurmJobs | None
) -> dict[str, Any]:
    from aifactory.services import jobs as job_services
    from aifactory.services.ports import SystemClock

    url = f"sqlite:///{tmp / f'profile-{backend}.db'}"
    fixture = prepare_database(url)
    factory = uow_factory(url, stack)
    data_dir = tmp / f"profile-{backend}"
    gw = gateway(url, data_dir, backend)
    actor, clock = pi_actor(factory), SystemClock()
    if slurm is not None:
        slurm.account = fixture.account
    t0 = time.perf_counter()
    gw.provision(fixture.account)  # sacctmgr add account + add user: once per process, timed apart
    provision_ms = (time.perf_counter() - t0) * 1000
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    for i in range(n):
        prof.enable()
        job = job_services.submit_job(factory, clock, actor, gw, job_doc(f"prof-{i}"))
        prof.disable()
        if slurm is not None:
            slurm.add(job.backend_id)
    wall = (time.perf_counter() - t0) * 1000 / n
    if backend == "local":
        drain_local(data_dir / "local-executor")
    return {
        "backend": backend,
        "submits": n,
        "wall_ms_per_submit": wall,
        "provision_ms": provision_ms,
        "cumulative_ms_per_submit": _per_category(prof, n),
        "top_tottime": profile_top(prof, "tottime", 15),
        "top_cumulative": profile_top(prof, "cumulative", 40),
    }


def profile_all(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """The profile of each backend not skipped; on Slurm, its jobs cancelled and a new account removed after."""
    out = []
    if not args.skip_slurm:
        tracked = cluster.SlurmJobs()
        with ExitStack() as stack:
            existed = cluster.account_exists(prepare_database(f"sqlite:///{tmp / 'probe.db'}").account)
            if not existed:  # after the cancel (LIFO: registered first, runs last)
                stack.callback(lambda: tracked.account and cluster.drop_account(tracked.account))
            stack.callback(lambda: (tracked.cancel(), tracked.wait_gone(60)))
            out.append(profile_submits("slurm", args.profile, tmp, stack, tracked))
    if not args.skip_local:
        with ExitStack() as stack:
            out.append(profile_submits("local", args.profile, tmp, stack, None))
    return out
