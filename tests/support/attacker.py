"""The attacker's test suite (tests/security) in the tests: a real factory — ``python -m aifactory serve`` in its
own process, as root like CI, with its own data folder and SQLite database (the demo in it), a recognisable
secret key and POSIX identities on (a prefix and id ranges of the run's own) — and a tenant who registers
through its API, gets a playground proposal accepted and submits jobs. The accounts, Slurm associations and
accounts the run made are removed afterwards."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import String, cast, literal, select, update

from aifactory.store import tables
from aifactory.store.engine import make_engine
from tests.support.accounts import mark_verified
from tests.support.demo import PEOPLE, seed_demo_sqlite
from tests.support.identities import LocalAccounts, reachable_folder, require_root, unique_policy
from tests.support.live import free_port
from tests.support.sandbox import require_bwrap
from tests.support.slurm import START_COMMAND, run, slurm_unavailable

FINAL = ("completed", "failed", "cancelled", "timeout")
PG_PORT = 5432
STREAMS_PER_USER = 8  # AIFACTORY_MAX_LOG_STREAMS_PER_USER of the factory under attack


@dataclass
class Factory:
    """A running factory: its backend, API root, server process, data folder and database, its secret key,
    the identities' prefix, and the bakery's PI (anna, the other tenant) as a client."""

    kind: str
    url: str
    process: subprocess.Popen[bytes]
    data: Path
    secret: str
    prefix: str
    log: Path
    anna: httpx.Client = field(repr=False)

    @property
    def database(self) -> Path:
        return self.data / "aifactory.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    def rss_kib(self) -> int:
        """The server's resident memory."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("the server is gone")

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def require_backend(kind: str) -> None:
    """Root (identities), and bubblewrap or the Slurm cluster: skipped without, failed instead in CI."""
    require_root()
    if kind == "local":
        require_bwrap()
        return
    reason = slurm_unavailable()
    if reason is None:
        return
    reason = f"{reason}; start the local cluster with `{START_COMMAND}`"
    if os.environ.get("AIFACTORY_REQUIRE_SLURM") == "1":
        pytest.fail(reason + " (AIFACTORY_REQUIRE_SLURM=1)")
    pytest.skip(reason)


def server_env(kind: str, data: Path, secret: str, prefix: str, uids: tuple[int, int], gids: tuple[int, int]) -> dict:
    """The server's environment: this one without any AIFACTORY_ setting of the test run, plus the factory's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIFACTORY_")}
    return env | {
        "AIFACTORY_ENV": "production",
        "AIFACTORY_SECRET_KEY": secret,
        "AIFACTORY_DATA_DIR": str(data),
        "AIFACTORY_BACKEND": kind,
        "AIFACTORY_SITE": f"attack{secrets.token_hex(4)}",
        "AIFACTORY_RECONCILE_SECONDS": "0.5",
        "AIFACTORY_GPU_SLOTS": "0",
        "AIFACTORY_CPU_SLOTS": "2",
        "AIFACTORY_MAX_LOG_STREAMS_PER_USER": str(STREAMS_PER_USER),
        "AIFACTORY_IDENTITY_KIND": "local",
        "AIFACTORY_IDENTITY_PREFIX": prefix,
        "AIFACTORY_IDENTITY_UID_FIRST": str(uids[0]),
        "AIFACTORY_IDENTITY_UID_LAST": str(uids[1]),
        "AIFACTORY_IDENTITY_GID_FIRST": str(gids[0]),
        "AIFACTORY_IDENTITY_GID_LAST": str(gids[1]),
    }


def start_server(env: dict[str, str], cwd: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``aifactory serve`` on a free port, answering /health; the process and its API root."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aifactory", "serve", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop_server(proc)
    raise AssertionError("the server did not start:\n" + log.read_text()[-3000:])


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def own_slurm_accounts(url: str, prefix: str) -> None:
    """The demo's projects get Slurm accounts of this run's own (the factory provisions them)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        account = literal(f"{prefix}_") + cast(tables.projects.c.id, String)
        conn.execute(update(tables.projects).values(slurm_account=account))
    engine.dispose()


def slurm_accounts(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        names = list(conn.scalars(select(tables.projects.c.slurm_account)))
    engine.dispose()
    return names


@contextmanager
def running_factory(kind: str, template: Path) -> Iterator[Factory]:
    """A factory of ``kind`` (``local`` or ``slurm``) up until the block ends; everything it made removed."""
    require_backend(kind)
    policy = unique_policy()
    with reachable_folder(f"attack-{kind}") as base:
        data = base / "data"
        data.mkdir()
        seeded = seed_demo_sqlite(template, data / "aifactory.db")
        if kind == "slurm":
            own_slurm_accounts(seeded.url, policy.prefix)
        secret = f"aifactory-attack-secret-{secrets.token_hex(24)}"
        ranges = (policy.uids.first, policy.uids.last), (policy.gids.first, policy.gids.last)
        env = server_env(kind, data, secret, policy.prefix, *ranges)
        log = base / "server.log"
        proc, url = start_server(env, base, log)
        anna = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {seeded.info.tokens[PEOPLE['anna']]}"}, timeout=30
        )
        try:
            yield Factory(kind, url, proc, data, secret, policy.prefix, log, anna)
        finally:
            anna.close()
            stop_server(proc)
            LocalAccounts(policy.prefix).cleanup()
            if kind == "slurm":
                names = ",".join(slurm_accounts(seeded.url))
                run("sacctmgr", "-i", "delete", "account", "where", f"name={names}", check=False)


@dataclass
class Tenant:
    """A self-registered organization's first user, signed in, with its accepted playground project."""

    client: httpx.Client = field(repr=False)
    email: str
    user_id: int
    organization_id: int
    project_id: int = 0

    def submit(self, spec: dict[str, Any]) -> httpx.Response:
        body = {"project": self.project_id, "resources": {"time": 5}, **spec}
        return self.client.post("/jobs", json=body)

    def job(self, spec: dict[str, Any]) -> dict[str, Any]:
        r = self.submit(spec)
        assert r.status_code == 201, r.text
        job: dict[str, Any] = r.json()
        return job


def register(factory: Factory) -> Tenant:
    """Registration through the API (anyone may), then a playground proposal, accepted at once."""
    tag = secrets.token_hex(4)
    email = f"mallory-{tag}@attacker.example"
    body = {
        "organization": {"name": f"Mallory {tag} GmbH", "kind": "sme", "country": "de", "sectors": ["food"]},
        "user": {"email": email, "name": "Mallory"},
    }
    r = httpx.post(f"{factory.url}/register", json=body, timeout=30)
    assert r.status_code == 201, r.text
    made = r.json()
    mark_verified(factory.database_url, email)  # the attacker reads their own mailbox
    tenant = Tenant(factory.client(made["token"]["token"]), email, made["user"]["id"], made["organization"]["id"])
    tenant.project_id = accepted_playground_project(tenant, tag)
    return tenant


def accepted_playground_project(tenant: Tenant, tag: str) -> int:
    calls = tenant.client.get("/calls", params={"access_mode": "playground", "open": True}).json()["items"]
    call = calls[0]
    draft = {
        "call_id": call["id"],
        "title": f"Attack {tag}",  # unique: so is the project's Slurm account
        "abstract": "Demand forecasting for a bakery chain, with nothing else in mind.",
        "application_field": "food",
        "requested_gpu_hours": 1000,  # the most the playground accepts at once
        "resource_id": call["resource_ids"][0],
        "duration_months": 1,
        "team": [{"name": "Mallory", "email": tenant.email, "role": "PI"}],
        "ethics": {"risk_category": "minimal"},
    }
    r = tenant.client.post("/proposals", json=draft)
    assert r.status_code == 201, r.text
    submitted = tenant.client.post(f"/proposals/{r.json()['id']}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "accepted", submitted.text
    projects = tenant.client.get("/projects").json()["items"]
    return int(next(p["id"] for p in projects if p["proposal_id"] == r.json()["id"]))


def wait(client: httpx.Client, job_id: int, timeout: float = 120) -> dict[str, Any]:
    """The job once final (its owner's client); fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
        if job["state"] in FINAL:
            return job
        assert time.monotonic() < deadline, f"job {job_id} not final after {timeout:.0f}s: {job}"
        time.sleep(0.3)


def process_count() -> int:
    """Processes on this machine."""
    return sum(1 for name in os.listdir("/proc") if name.isdigit())
