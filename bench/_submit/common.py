"""What both parts of ``bench/submit_throughput.py`` use: a demo-seeded database, the trivial job, the gateway
built from settings as the server builds it, the bakery PI as the submitter, and the latency figures."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness.seeding import demo_database
from _harness.servers import server_env
from _harness.stats import Latency

PI_EMAIL = "anna@backhaus-kiel.example"  # the bakery PI: project 1, 500 GPU-hour playground allocation on booster
PROJECT_ID = 1
SITE = "bench"
LATENCY_KEYS = ("mean_ms", "p50_ms", "p99_ms", "max_ms", "first_tenth_mean_ms", "last_tenth_mean_ms")


@dataclass(frozen=True)
class Fixture:
    url: str
    token: str  # the PI's API token
    account: str  # project 1's Slurm account


def prepare_database(url: str) -> Fixture:
    """Migrate a fresh database to head and seed the demo factory."""
    with demo_database(url) as db, db.factory(write=False) as uow:
        project = uow.projects.get(PROJECT_ID)
        pi = uow.users.by_email(PI_EMAIL)
        if project is None or pi is None or project.role_of(pi.id) is None:
            raise RuntimeError(f"the demo seed changed: {PI_EMAIL} is not a member of project {PROJECT_ID}")
        return Fixture(url=url, token=db.info.tokens[PI_EMAIL], account=project.slurm_account)


def job_doc(name: str, *, array: str | None = None) -> dict[str, Any]:
    """A trivial job: ``true``, 1 minute, no GPU, on booster, in project 1."""
    doc: dict[str, Any] = {
        "name": name,
        "project": PROJECT_ID,
        "resource": "booster",
        "resources": {"gpus_per_node": 0, "time": 1},
        "command": ["true"],
    }
    if array:
        doc["array"] = {"range": array}
    return doc


def lat_stats(latencies_s: list[float]) -> dict[str, float]:
    """Mean / p50 / p99 / max in ms, and the mean of the first and last tenth (growth with the job count)."""
    return Latency.of_seconds(latencies_s).pick(*LATENCY_KEYS)


def submit_server_env(url: str, data_dir: Path, backend: str, **extra: str) -> dict[str, str]:
    """The server's environment: this backend, the reconciler off (the bench settles between phases)."""
    return server_env(
        url, data_dir, AIFACTORY_BACKEND=backend, AIFACTORY_RECONCILE_SECONDS="0", AIFACTORY_SITE=SITE, **extra
    )


def gateway(url: str, data_dir: Path, backend: str) -> Any:
    """The gateway as the server builds it (gpu_slots=0: the local backend runs every task at once)."""
    from aifactory.config import Settings
    from aifactory.runtime import build_gateway

    settings = Settings(
        _env_file=None,
        backend=backend,
        data_dir=data_dir,
        database_url=url,
        gpu_slots=0,
        site=SITE,
        reconcile_seconds=0,
    )
    settings.ensure_dirs()
    return build_gateway(settings)


def uow_factory(url: str, stack: ExitStack) -> Any:
    from aifactory.store.engine import make_engine, make_session_factory
    from aifactory.store.uow import SqlUnitOfWorkFactory

    engine = make_engine(url)
    stack.callback(engine.dispose)
    return SqlUnitOfWorkFactory(make_session_factory(engine))


def pi_actor(factory: Any) -> Any:
    from aifactory.services.context import Actor

    with factory(write=False) as uow:
        return Actor(uow.users.by_email(PI_EMAIL))
