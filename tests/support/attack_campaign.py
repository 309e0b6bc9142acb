"""The attacker's campaign against a running factory (tests/support/attacker.py), run once per backend: the other
tenant's secret job, the attacker's own legitimate job, the state of the factory taken, then every attack, then
the state again. What happened is kept in an :class:`Outcome` that the tests of tests/security judge."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Row, Select, select

import aifactory
from aifactory.store import tables
from aifactory.store.engine import make_engine
from tests.support.attacker import FINAL, PG_PORT, STREAMS_PER_USER, Factory, Tenant, process_count, register, wait
from tests.support.factory_state import DbState, TenantKeys, db_state, tree_state
from tests.support.hostile import BOMB

PROBE = (Path(__file__).resolve().parents[1] / "security" / "probe_job.py").read_text()
PACKAGE = Path(aifactory.__file__).resolve().parent
PLANTED = ("db-link", "shadow-link", "victim-link", "victim-dir/secret.txt", "data-link/aifactory.db", "etc/passwd")
HARD_LINKS = ("db-hard", "shadow-hard", "victim-hard")
OUTPUTS = ["attack.json", "own.txt", "*-link", "*-hard", "victim-dir/*", "data-link/*", "etc/passwd"]
DB_FILES = ("aifactory.db", "aifactory.db-wal", "aifactory.db-shm", "aifactory.db-journal")


@dataclass
class Answer:
    status: int
    body: str


@dataclass
class Outcome:
    """What the campaign saw. ``answers``: every request that must be refused, by name."""

    kind: str
    secret: str
    victim_secret: str
    me_before: dict[str, Any]
    me_after: dict[str, Any] = field(default_factory=dict)
    owner: tuple[int, int] = (0, 0)  # the tenant's uid and its project's gid
    stored: int = 1  # the tenant's jobs the factory stored (the warm-up job so far), refused by the scheduler or not
    answers: dict[str, Answer] = field(default_factory=dict)
    probe: dict[str, Any] = field(default_factory=dict)  # the job as the tenant sees it
    report: dict[str, Any] = field(default_factory=dict)  # attack.json
    artifacts: list[str] = field(default_factory=list)
    served: dict[str, Answer] = field(default_factory=dict)  # the planted links, asked for as artifacts and logs
    rss_kib: tuple[int, int] = (0, 0)  # the server's, before and after the hostile specs
    processes: tuple[int, int] = (0, 0)  # on this machine: before the big array, and the most seen after it
    array: dict[str, Any] = field(default_factory=dict)
    streams: list[int] = field(default_factory=list)  # statuses of the live-log streams opened up to the limit
    db: tuple[DbState, DbState] | None = None
    trees: dict[str, tuple[dict[str, str], dict[str, str]]] = field(default_factory=dict)


def answer(r: httpx.Response) -> Answer:
    return Answer(r.status_code, r.text[:2000])


def victim_job(f: Factory) -> tuple[dict[str, Any], str]:
    """Anna (the bakery, another organization) runs a job that leaves a secret in its folder and its log."""
    secret = f"victim-secret-{secrets.token_hex(16)}"
    body = {
        "name": "secret",
        "project": 1,
        "command": ["bash", "-c", f"echo {secret} > secret.txt; echo {secret}"],
        "outputs": ["secret.txt"],
        "resources": {"time": 5},
    }
    r = f.anna.post("/jobs", json=body)
    assert r.status_code == 201, r.text
    job = wait(f.anna, r.json()["id"])
    assert job["state"] == "completed", job
    return job, secret


def rows(f: Factory, query: Select[Any]) -> list[Row[Any]]:
    """A query's rows, read from the factory's database as it is now."""
    engine = make_engine(f.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(query))
    finally:
        engine.dispose()


def settled(f: Factory, job_ids: set[int], timeout: float = 60) -> None:
    """Wait until the reconciler has charged every one of the jobs (so the ledger is at rest)."""
    deadline = time.monotonic() + timeout
    query = select(tables.jobs.c.settled_at).where(tables.jobs.c.id.in_(job_ids))
    while any(at is None for (at,) in rows(f, query)):
        assert time.monotonic() < deadline, f"jobs {sorted(job_ids)} not settled within {timeout:.0f}s"
        time.sleep(0.3)


def data_skip(f: Factory, tenant: Tenant) -> Callable[[str], bool]:
    """The data folder's paths the tenant's legitimate jobs change: its job folders, the executor's records of
    its tasks, the database files (their contents are compared table by table)."""
    j, p = tables.jobs, tables.projects
    query = select(j.c.id, j.c.backend_id, j.c.comment, p.c.slurm_account).join(p).where(p.c.id == tenant.project_id)
    names: set[str] = set()
    folders: set[str] = set()
    for job_id, backend_id, comment, account in rows(f, query):
        folders.add(f"jobs/{job_id}")
        names |= {str(backend_id), hashlib.sha256(comment.encode()).hexdigest()}
        names.add(hashlib.sha256(account.encode()).hexdigest())

    def skip(rel: str) -> bool:
        parts = rel.split("/")
        if rel in DB_FILES or "/".join(parts[:2]) in folders:
            return True
        return parts[0] == "local-executor" and len(parts) > 2 and parts[2].split("_")[0] in names

    return skip


def snapshot(f: Factory, tenant: Tenant, victim_folder: Path) -> tuple[DbState, dict[str, dict[str, str]]]:
    keys = TenantKeys(tenant.user_id, tenant.project_id)
    trees = {
        "data": tree_state(f.data),
        "victim": tree_state(victim_folder),
    }
    return db_state(f.database_url, keys), trees


def setup(f: Factory) -> tuple[Tenant, Outcome, dict[str, Any]]:
    """The other tenant's secret, the attacker registered with its project and one legitimate job run."""
    tenant = register(f)
    victim, victim_secret = victim_job(f)
    warm_up = tenant.job({"name": "hello", "command": ["id"]})
    assert wait(tenant.client, warm_up["id"])["state"] == "completed"
    settled(f, {victim["id"], warm_up["id"]})
    me = tenant.client.get("/me").json()
    return tenant, Outcome(f.kind, f.secret, victim_secret, me, owner=posix_ids(f, tenant)), victim


def posix_ids(f: Factory, tenant: Tenant) -> tuple[int, int]:
    """The uid the factory gave the tenant and the gid of its project."""
    users, groups = tables.posix_users, tables.posix_groups
    [(uid,)] = rows(f, select(users.c.uid).where(users.c.user_id == tenant.user_id))
    [(gid,)] = rows(f, select(groups.c.gid).where(groups.c.project_id == tenant.project_id))
    return int(uid), int(gid)


def targets(f: Factory, tenant: Tenant, victim: dict[str, Any]) -> dict[str, Any]:
    folder = f.data / "jobs" / str(victim["id"])
    log = next(p for p in folder.iterdir() if p.name.startswith("stdout-"))
    return {
        "database": str(f.database),
        "data": str(f.data),
        "victim_folder": str(folder),
        "victim_file": str(folder / "work" / "secret.txt"),
        "victim_log": str(log),
        "server_pid": f.process.pid,
        "package": str(PACKAGE),
        "pg_port": PG_PORT,
        "email": tenant.email,
    }


def run_probe(f: Factory, tenant: Tenant, victim: dict[str, Any], out: Outcome) -> None:
    """The job that tries everything (tests/security/probe_job.py), its report fetched as an artifact, and every
    link it planted asked for as an artifact and every log it swapped for a link read."""
    env = {"ATTACK": json.dumps(targets(f, tenant, victim))}
    job = tenant.job({"name": "probe", "command": ["/usr/bin/python3", "-c", PROBE], "env": env, "outputs": OUTPUTS})
    out.stored += 1
    out.probe = wait(tenant.client, job["id"])
    base = f"/jobs/{job['id']}"
    listed = tenant.client.get(f"{base}/artifacts")
    assert listed.status_code == 200, listed.text
    out.artifacts = sorted(a["path"] for a in listed.json())
    report = tenant.client.get(f"{base}/artifacts/attack.json")
    assert report.status_code == 200, (report.text, out.probe)
    out.report = report.json()
    for name in (*PLANTED, *HARD_LINKS):
        out.served[f"artifact {name}"] = answer(tenant.client.get(f"{base}/artifacts/{name}"))
    for stream in ("stdout", "stderr"):
        out.served[f"log {stream}"] = answer(tenant.client.get(f"{base}/logs", params={"stream": stream}))


def escapes(tenant: Tenant, out: Outcome) -> None:
    """Specs whose working directory or outputs lie outside the job's folder: refused before anything is stored."""
    hello = {"name": "escape", "command": ["true"]}
    specs: dict[str, dict[str, Any]] = {
        "workdir /": {"workdir": "/", "outputs": ["etc/passwd"]},
        "workdir /etc": {"workdir": "/etc"},
        "workdir ..": {"workdir": "../.."},
        "workdir a/../../..": {"workdir": "a/../../.."},
        "workdir ~root": {"workdir": "~root"},
        "outputs ../../aifactory.db": {"outputs": ["../../../aifactory.db"]},
        "outputs /etc/passwd": {"outputs": ["/etc/passwd"]},
        "outputs a/../../../x": {"outputs": ["a/../../../x"]},
    }
    for name, spec in specs.items():
        out.answers[name] = answer(tenant.submit({**hello, **spec}))


def hostile(f: Factory, tenant: Tenant, out: Outcome) -> None:
    """Specs that once cost the server seconds and hundreds of MB (or never finished): the 303-byte 6x10 grid
    for a missing project, a grid of 10^48 combinations, a YAML alias bomb, JSON nested 50,000 deep."""

    def grid(keys: int, values: int, project: int) -> str:
        spec = {"name": "g", "project": project, "command": ["true"]}
        array = {"array": {"grid": {f"k{i}": list(range(values)) for i in range(keys)}}}
        return json.dumps(spec | array, separators=(",", ":"))

    bodies = {
        "grid 6x10 for a missing project": (grid(6, 10, 99999), "application/json"),
        "grid of 10^48": (grid(16, 1000, tenant.project_id), "application/json"),
        "YAML alias bomb": (BOMB.replace("project: 1", f"project: {tenant.project_id}"), "application/yaml"),
        "JSON 50,000 deep": ("[" * 50_000 + "]" * 50_000, "application/json"),
    }
    before = f.rss_kib()
    for name, (body, kind) in bodies.items():
        out.answers[name] = answer(tenant.client.post("/jobs", content=body, headers={"Content-Type": kind}))
    out.rss_kib = (before, f.rss_kib())


def through_the_api(tenant: Tenant, victim: dict[str, Any], out: Outcome) -> None:
    """The other project's job through the API, and paths that climb out of the attacker's own job."""
    own, theirs = f"/jobs/{out.probe['id']}", f"/jobs/{victim['id']}"
    paths = {
        "other job": theirs,
        "other job's artifact": f"{theirs}/artifacts/secret.txt",
        "other job's log": f"{theirs}/logs",
        "artifact ../": f"{own}/artifacts/..%2F..%2F..%2Faifactory.db",
        "artifact /etc/passwd": f"{own}/artifacts/%2Fetc%2Fpasswd",
        "log of task -1": f"{own}/logs?task=-1",
        "log stream ../": f"{own}/logs?stream=..%2F..%2Faifactory.db",
    }
    for name, path in paths.items():
        out.answers[name] = answer(tenant.client.get(path))


def big_array(tenant: Tenant, out: Outcome) -> None:
    """10,000 tasks in one submission: the machine's process count stays bounded (tasks queue for slots)."""
    before = process_count()
    swarm = {"name": "swarm", "command": ["sleep", "60"], "array": {"range": "0-9999"}, "resources": {"time": 1}}
    r = tenant.submit(swarm)
    out.answers["array of 10,000 tasks"] = answer(r)
    peak = before
    for _ in range(10):
        peak = max(peak, process_count())
        time.sleep(0.3)
    out.processes = (before, peak)
    if r.status_code == 422 and "Slurm refused" in r.text:  # stored, and failed with the scheduler's refusal
        out.stored += 1
    if r.status_code == 201:
        out.stored += 1
        tenant.client.post(f"/jobs/{r.json()['id']}/cancel")
        out.array = wait(tenant.client, r.json()["id"])


def log_streams(f: Factory, tenant: Tenant, victim: dict[str, Any], out: Outcome) -> None:
    """One more live-log stream than one user may hold: the last is a 429; the other tenant still gets its own;
    once closed, the streams are free again."""
    sleeper = tenant.job({"name": "sleeper", "command": ["sleep", "120"]})
    out.stored += 1
    path = f"/jobs/{sleeper['id']}/logs/stream"
    running(tenant.client, sleeper["id"])
    with ExitStack() as open_streams:
        for _ in range(STREAMS_PER_USER + 1):
            response = open_streams.enter_context(tenant.client.stream("GET", path))
            out.streams.append(response.status_code)
        with f.anna.stream("GET", f"/jobs/{victim['id']}/logs/stream") as theirs:
            out.answers["the other tenant's stream meanwhile"] = Answer(theirs.status_code, "")
    with tenant.client.stream("GET", path) as again:
        out.answers["a stream once the others closed"] = Answer(again.status_code, "")
    tenant.client.post(f"/jobs/{sleeper['id']}/cancel")
    wait(tenant.client, sleeper["id"])


def running(client: httpx.Client, job_id: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (state := client.get(f"/jobs/{job_id}").json()["state"]) != "running":
        assert state not in FINAL and time.monotonic() < deadline, f"job {job_id} did not run ({state})"
        time.sleep(0.3)


def campaign(f: Factory) -> Outcome:
    """Everything, in order; the factory's state before the first attack and after the last."""
    tenant, out, victim = setup(f)
    folder = f.data / "jobs" / str(victim["id"])
    db_before, trees_before = snapshot(f, tenant, folder)
    escapes(tenant, out)
    hostile(f, tenant, out)
    run_probe(f, tenant, victim, out)
    through_the_api(tenant, victim, out)
    big_array(tenant, out)
    log_streams(f, tenant, victim, out)
    out.me_after = tenant.client.get("/me").json()
    tenant.client.close()
    db_after, trees_after = snapshot(f, tenant, folder)
    skip = data_skip(f, tenant)
    trees_before["data"] = {k: v for k, v in trees_before["data"].items() if not skip(k)}
    trees_after["data"] = {k: v for k, v in trees_after["data"].items() if not skip(k)}
    out.db = (db_before, db_after)
    out.trees = {name: (trees_before[name], trees_after[name]) for name in trees_before}
    return out
