#!/usr/bin/env python
"""API load benchmark: the real server with 10,000 proposals against a bare FastAPI endpoint, same run.

What it does
    1. Creates a throwaway database (a SQLite file in a temporary folder, or with ``--database-url`` a
       throwaway database on that PostgreSQL server, dropped at the end), migrates it to head, seeds the
       demo factory (``aifactory.demo.seed_demo``: site, calls, organizations, tokens) and bulk-inserts
       proposals (and partner links) up to ``--proposals`` in total, varied over the demo's calls,
       organizations, statuses and deadlines.
    2. Starts two uvicorn servers as subprocesses on 127.0.0.1 with the same options: the application
       (``--factory aifactory.api.app:create_app``) and ``bench/bare_app.py`` (the baseline).
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
import asyncio
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
TARGET_P99_MS = 50.0
TARGET_RATIO = 0.40
DEFAULT_MIX = "list=30,show=40,calls=15,projects=15"
APPLICANTS = ("anna@backhaus-kiel.example", "daan@gridwise.example")  # members of the demo's two projects


def log(msg: str) -> None:
    print(f"[api_load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------------------
# Database: migrate, seed the demo, bulk-insert proposals
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Fixture:
    url: str
    tokens: dict[str, str]
    proposal_ids: list[int]
    total_proposals: int


TOPICS = [
    ("food", "demand forecasting for bakery branches", "sales, weather and holiday data"),
    ("food", "crop yield prediction from satellite imagery", "multispectral Sentinel-2 tiles"),
    ("health", "chest X-ray triage with vision transformers", "de-identified radiographs"),
    ("health", "protein structure prediction for rare diseases", "public structure databases"),
    ("energy-climate", "grid load forecasting with graph neural networks", "substation telemetry"),
    ("energy-climate", "regional climate downscaling", "reanalysis and station records"),
    ("mobility", "world models for autonomous driving", "fleet driving logs"),
    ("mobility", "traffic flow prediction for city planning", "loop detector counts"),
    ("education", "a retrieval-augmented assistant for citizen services", "municipal documents"),
    ("education", "automatic feedback on student essays", "anonymised essays with grades"),
    ("finance", "fraud detection on payment streams", "synthetic transaction data"),
    ("finance", "a multilingual language model for financial reports", "annual reports of EU companies"),
    ("manufacturing", "visual defect detection on production lines", "camera images from three plants"),
    ("manufacturing", "predictive maintenance for CNC machines", "vibration and spindle sensor data"),
    ("other", "speech recognition for regional dialects", "recorded interviews"),
]
ADJECTIVES = ["Scalable", "Efficient", "Trustworthy", "Open", "Federated", "Green", "Robust", "Explainable"]
FIRST = ["Anna", "Lars", "Claire", "Marco", "Eva", "Daan", "Sofia", "Jan", "Ines", "Piotr", "Mia", "Tomas"]
LAST = ["Petersen", "Jensen", "Martin", "Rossi", "Schmitz", "de Vries", "Novak", "Garcia", "Kowalski", "Berg"]
ROLES = ["PI", "ML engineer", "data scientist", "domain expert", "HPC advisor"]
STATUS_WEIGHTS = {"draft": 15, "submitted": 22, "under_review": 20, "accepted": 25, "rejected": 12, "withdrawn": 6}
RISK_WEIGHTS = {"minimal": 60, "limited": 25, "high": 15}


def _proposal_rows(
    rng: random.Random,
    n: int,
    first_id: int,
    now: datetime,
    calls: list[Any],
    resources: dict[str, int],
    applicants: dict[int, list[int]],
    operator_id: int,
) -> tuple[list[dict], list[dict]]:
    """``n`` realistic proposal rows (ids from ``first_id``) and partner links for about a fifth of them."""
    today = now.date()
    call_weights = {"playground": 50, "fast_lane": 35, "large_scale": 15}
    weights = [call_weights.get(c.access_mode.value, 10) for c in calls]
    orgs = sorted(applicants)
    statuses, status_w = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    risks, risk_w = list(RISK_WEIGHTS), list(RISK_WEIGHTS.values())
    rows: list[dict] = []
    partners: list[dict] = []
    for i in range(n):
        pid = first_id + i
        call = rng.choices(calls, weights)[0]
        org = rng.choice(orgs)
        author = rng.choice(applicants[org])
        field_, topic, data = rng.choice(TOPICS)
        hours = rng.randint(max(1, call.min_gpu_hours), call.max_gpu_hours)
        hours = max(1, round(hours, -2) if hours >= 1000 else hours)
        status = rng.choices(statuses, status_w)[0]
        risk = rng.choices(risks, risk_w)[0]
        created = now - timedelta(days=rng.uniform(1, 365), seconds=rng.randint(0, 86_400))
        updated = created
        submitted_at = decided_at = decided_by = awarded = deadline = None
        reason = ""
        if status != "draft" and not (status == "withdrawn" and rng.random() < 0.5):
            submitted_at = created + timedelta(days=rng.uniform(0, 10))
            updated = submitted_at
        if status in ("submitted", "under_review"):
            # Open proposals: a spread of deadlines, so that the list shows overdue, due soon and on track.
            submitted_at = now - timedelta(days=rng.uniform(0, 20))
            created = min(created, submitted_at - timedelta(hours=1))
            updated = submitted_at
            deadline = today + timedelta(days=rng.randint(-10, 15))
        elif submitted_at is not None:
            deadline = submitted_at.date() + timedelta(days=rng.randint(2, 20))
        if status in ("accepted", "rejected"):
            decided_at = min(now, submitted_at + timedelta(days=rng.uniform(1, 14)))  # type: ignore[operator]
            decided_by = operator_id
            updated = decided_at
            if status == "accepted":
                awarded = hours if rng.random() < 0.7 else max(1, hours * 3 // 4)
                reason = "Feasible and impactful." if rng.random() < 0.8 else "Award reduced to match the plan."
            else:
                reason = rng.choice(
                    ["Out of scope of the call.", "Insufficient technical readiness.", "Data access not demonstrated."]
                )
        elif status == "withdrawn":
            updated = (submitted_at or created) + timedelta(days=rng.uniform(0, 5))
        team = [
            {
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "email": f"member{pid}.{k}@example.org",
                "role": rng.choice(ROLES),
            }
            for k in range(rng.randint(0, 4))
        ]
        abstract = f"We propose {topic} using {data}. " + " ".join(
            rng.sample(
                [
                    "The model is trained on the booster partition and evaluated against a strong baseline.",
                    "Results and the trained weights will be shared through the factory's catalog.",
                    "The work plan has three phases: data preparation, training at scale and evaluation.",
                    "We expect to reduce energy use and waste measurably in the first year.",
                    "A pilot with two partners validates the approach before a wider roll-out.",
                    "All data is processed in the EU; personal data is pseudonymised before transfer.",
                ],
                k=rng.randint(1, 4),
            )
        )
        personal = field_ == "health" or rng.random() < 0.15
        rows.append(
            dict(
                id=pid,
                call_id=call.id,
                lead_organization_id=org,
                author_id=author,
                title=f"{rng.choice(ADJECTIVES)} {topic} ({pid})",
                abstract=abstract,
                application_field=field_,
                requested_gpu_hours=hours,
                resource_id=resources["develop"]
                if call.access_mode.value == "playground" and rng.random() < 0.2
                else resources["booster"],
                duration_months=rng.choice(call.durations_months),
                team=team,
                risk_category=risk,
                personal_data=personal,
                health_data=field_ == "health" and rng.random() < 0.7,
                dual_use=rng.random() < 0.03,
                ethics_notes="Data protection impact assessment done." if personal else "",
                status=status,
                submitted_at=submitted_at,
                decision_deadline=deadline,
                decided_at=decided_at,
                decided_by=decided_by,
                decision_reason=reason,
                awarded_gpu_hours=awarded,
                created_at=created,
                updated_at=max(updated, created),
                version=1,
            )
        )
        if rng.random() < 0.2:
            for partner in rng.sample([o for o in orgs if o != org], k=rng.randint(1, 2)):
                partners.append({"proposal_id": pid, "organization_id": partner})
    return rows, partners


def prepare_database(url: str, n_proposals: int, seed: int) -> Fixture:
    from sqlalchemy import func, insert, select, text

    from aifactory.demo import OPERATOR_EMAIL, seed_demo
    from aifactory.services.ports import SystemClock
    from aifactory.store import tables as t
    from aifactory.store.engine import make_engine, make_session_factory
    from aifactory.store.migrate import upgrade
    from aifactory.store.uow import SqlUnitOfWorkFactory

    t0 = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    try:
        info = seed_demo(SqlUnitOfWorkFactory(make_session_factory(engine)), SystemClock())
        rng = random.Random(seed)
        with engine.begin() as conn:
            calls = conn.execute(select(t.calls).order_by(t.calls.c.id)).all()
            resources = {r.name: r.id for r in conn.execute(select(t.resources.c.id, t.resources.c.name))}
            applicants: dict[int, list[int]] = {}
            for uid, org_id in conn.execute(
                select(t.users.c.id, t.users.c.organization_id).where(t.users.c.organization_id.is_not(None))
            ):
                applicants.setdefault(org_id, []).append(uid)
            operator_id = conn.scalar(select(t.users.c.id).where(t.users.c.email == OPERATOR_EMAIL))
            existing = conn.scalar(select(func.count()).select_from(t.proposals)) or 0
            first_id = (conn.scalar(select(func.max(t.proposals.c.id))) or 0) + 1
            rows, partners = _proposal_rows(
                rng,
                max(0, n_proposals - existing),
                first_id,
                datetime.now(UTC),
                calls,
                resources,
                applicants,
                operator_id,
            )
            for chunk in range(0, len(rows), 2000):  # executemany, in chunks to bound memory
                conn.execute(insert(t.proposals), rows[chunk : chunk + 2000])
            if partners:
                conn.execute(insert(t.proposal_partners), partners)
            if engine.dialect.name == "postgresql":  # explicit ids: move the serial past them
                conn.execute(
                    text("SELECT setval(pg_get_serial_sequence('proposals', 'id'), (SELECT max(id) FROM proposals))")
                )
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("ANALYZE")
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        with engine.connect() as conn:
            ids = list(conn.scalars(select(t.proposals.c.id)))
    finally:
        engine.dispose()
    log(f"database ready: {len(ids)} proposals ({len(partners)} partner links) in {time.perf_counter() - t0:.1f} s")
    return Fixture(url=url, tokens=info.tokens, proposal_ids=ids, total_proposals=len(ids))


def normalize_pg_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@contextmanager
def throwaway_pg_database(
    server_url: str, name: str | None = None, say: Callable[[str], None] | None = None
) -> Iterator[str]:
    """A fresh database ``name`` (default: one per process) on the PostgreSQL server of ``server_url`` (as
    tests/dbs.py does; dropped first if a crashed run left it), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    log_ = say or log
    admin_url = make_url(normalize_pg_url(server_url))
    if not admin_url.drivername.startswith("postgresql"):
        raise SystemExit(f"--database-url must name a PostgreSQL server, not {admin_url.drivername}")
    name = name or f"aifactory_bench_{os.getpid()}"
    admin = create_engine(admin_url.set(database=admin_url.database or "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        log_(f"created PostgreSQL database {name}")
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            log_(f"dropped PostgreSQL database {name}")
    finally:
        admin.dispose()


# --------------------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (Linux; empty when the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _proc_cpu_seconds(pid: int, children: bool = False) -> float:
    """user + system CPU time of one process so far, or of its exited children (0 when it is gone)."""
    fields = _proc_stat(pid)
    if len(fields) < 15:
        return 0.0
    i = 13 if children else 11  # cutime, cstime / utime, stime
    return (int(fields[i]) + int(fields[i + 1])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(database: str | None) -> float:
    """CPU time so far of the PostgreSQL backends serving ``database`` (their command line names it), plus
    that of the postmaster's exited children: the short-lived parallel workers that sort for those backends
    (exited backends of other databases would count too; on a quiet server there are none)."""
    if not database:
        return 0.0
    needle = f" {database} ".encode()
    total, postmasters = 0.0, set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmdline = fh.read()
            except OSError:
                continue
            if cmdline.startswith(b"postgres:") and needle in cmdline:
                total += _proc_cpu_seconds(int(entry))
                fields = _proc_stat(int(entry))
                if fields:
                    postmasters.add(int(fields[1]))  # ppid
    return total + sum(_proc_cpu_seconds(pm, children=True) for pm in postmasters)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log_path: Path

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def pids(self) -> list[int]:
        """The server process and its workers (they share its process group: start_new_session)."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getpgid(int(entry)) == self.proc.pid:
                        pids.append(int(entry))
                except OSError:
                    pass
        return pids or [self.proc.pid]

    def cpu_seconds(self) -> float:
        """user + system CPU time of the server's processes so far (Linux /proc)."""
        return sum(_proc_cpu_seconds(pid) for pid in self.pids())

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group: the server and its workers
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)


def start_server(
    name: str,
    target: list[str],
    env: dict[str, str],
    workers: int,
    log_dir: Path,
    ready_path: str,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Server:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        *target,
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    server = Server(name, proc, port, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)  # no proxies: http.client is direct
            conn.request("GET", ready_path, headers=headers or {})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} server not ready after {timeout:.0f} s:\n{server.log_tail()}")
        time.sleep(0.1)
    log(f"{name} server up on {HOST}:{port} (pid {proc.pid}, {workers} worker(s))")
    return server


def http_get_json(port: int, path: str, token: str | None = None) -> Any:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {path} answered {resp.status}: {body[:300]!r}")
        return json.loads(body)
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------------------------
# Load generator
# --------------------------------------------------------------------------------------------------------------
#
# Why raw asyncio streams and not httpx.AsyncClient: the generator shares the machine's two cores with the
# server, so every microsecond it spends per request is taken from the server. Measured with
# bench/client_overhead.py on the 2-core development machine (bare async endpoint, 1 worker, 50 clients):
#   client                                 req/s    client CPU per request
#   raw keep-alive HTTP/1.1 (this code)    7-10k    40-60 µs
#   one httpx.AsyncClient, pool of 50        160    5.6-6.4 ms  (pool degrades at 50 concurrent)
#   one httpx.AsyncClient per client      750-900   1.1-1.3 ms
# The bare server needs about 100 µs (async endpoint) to 300-400 µs (sync endpoint) of CPU per request, so
# httpx would be the bottleneck of the baseline by a factor of 3 to 60 and make the app/bare ratio
# meaningless; the raw client costs a fraction of the server's work (0.1-0.25 cores in the bare phase).
# Requests are pre-formatted bytes; the parser reads the status line, Content-Length (or chunks) and the
# body, and nothing else.

Requester = Callable[[random.Random], tuple[str, bytes]]


@dataclass
class GroupStats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)


class HttpError(Exception):
    pass


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep_alive) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    try:
        status = int(head[9:12])
    except ValueError:
        raise HttpError(f"bad status line {head[:40]!r}") from None
    lower = head.lower()
    keep_alive = b"\r\nconnection: close" not in lower
    i = lower.find(b"\r\ncontent-length:")
    if i >= 0:
        j = lower.index(b"\r\n", i + 2)
        body = await reader.readexactly(int(lower[i + 17 : j]))
    elif b"\r\ntransfer-encoding: chunked" in lower:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected
                break
            parts.append(await reader.readexactly(size + 2))
        body = b"".join(p[:-2] for p in parts)
    else:
        raise HttpError("response without Content-Length or chunked encoding")
    return status, body, keep_alive


async def _client(
    port: int,
    requester: Requester,
    rng: random.Random,
    stop_at: float,
    stats: dict[str, GroupStats],
    interval: float | None = None,
) -> None:
    """One keep-alive connection. Closed loop (``interval`` None): the next request goes out as soon as the
    answer is in. Paced: requests are due every ``interval`` seconds (random phase), and latency is counted
    from when a request was due, so a server that falls behind is not flattered (no coordinated omission)."""
    writer = None
    due = time.perf_counter() + (rng.uniform(0, interval) if interval else 0.0)
    try:
        while True:
            now = time.perf_counter()
            if interval is None:
                if now >= stop_at:
                    break
            else:
                if due >= stop_at:
                    break
                if due > now:
                    await asyncio.sleep(due - now)
            group, request = requester(rng)
            t0 = time.perf_counter() if interval is None else due
            if interval is not None:
                due += interval
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(request)
                status, body, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as exc:
                stats[group].error(f"{type(exc).__name__}: {exc}")
                if writer is not None:
                    writer.close()
                    writer = None
                await asyncio.sleep(0.01)  # a refused or reset connection must not spin the loop
                continue
            elapsed_ms = (time.perf_counter() - t0) * 1000.0
            if status == 200:
                stats[group].latencies_ms.append(elapsed_ms)
            else:
                stats[group].error(f"HTTP {status}: {body[:200]!r}")
            if not keep_alive:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


@dataclass
class PhaseResult:
    name: str
    elapsed_s: float
    groups: dict[str, GroupStats]
    server_cpu_s: float
    client_cpu_s: float
    database_cpu_s: float  # PostgreSQL backends of the benchmark's database (0 for SQLite: in the server)
    machine_cpu_s: float  # all processes on the machine; what the others leave is other work
    warmup_errors: int = 0
    warmup_error_samples: list[str] = field(default_factory=list)


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def _run_phase(
    port: int,
    requester: Requester,
    groups: list[str],
    clients: int,
    duration: float,
    seed: int,
    rate: float | None = None,
) -> tuple[float, dict[str, GroupStats]]:
    stats = {g: GroupStats() for g in groups}
    t0 = time.perf_counter()
    stop_at = t0 + duration
    interval = clients / rate if rate else None
    tasks = [
        asyncio.ensure_future(_client(port, requester, random.Random(seed * 1000 + i), stop_at, stats, interval))
        for i in range(clients)
    ]
    done, pending = await asyncio.wait(tasks, timeout=duration + 30)  # bounded even if the server hangs
    for task in pending:
        task.cancel()
        stats[groups[0]].error("client still waiting for an answer 30 s after the end of the phase")
    for task in done:
        if task.exception() is not None:
            stats[groups[0]].error(f"client failed: {task.exception()!r}")
    return time.perf_counter() - t0, stats


def run_phase(
    name: str,
    server: Server,
    requester: Requester,
    groups: list[str],
    clients: int,
    duration: float,
    warmup: float,
    seed: int,
    rate: float | None = None,
    database: str | None = None,
) -> PhaseResult:
    runner = _event_loop_runner()
    werr, wsamples = 0, []
    if warmup > 0:
        _, warm = runner(_run_phase(server.port, requester, groups, clients, warmup, seed + 1, rate))
        werr = sum(s.errors for s in warm.values())
        wsamples = [e for s in warm.values() for e in s.error_samples][:5]
        log(
            f"{name}: warm-up {warmup:g} s, {sum(len(s.latencies_ms) for s in warm.values())} requests"
            + (f", {werr} errors (first: {next(e for s in warm.values() for e in s.error_samples)})" if werr else "")
        )
    cpu0, client0, db0, machine0 = (
        server.cpu_seconds(),
        time.process_time(),
        database_cpu_seconds(database),
        machine_busy_seconds(),
    )
    elapsed, stats = runner(_run_phase(server.port, requester, groups, clients, duration, seed, rate))
    result = PhaseResult(
        name,
        elapsed,
        stats,
        server.cpu_seconds() - cpu0,
        time.process_time() - client0,
        max(0.0, database_cpu_seconds(database) - db0),
        machine_busy_seconds() - machine0,
        werr,
        wsamples,
    )
    log(f"{name}: {sum(len(s.latencies_ms) for s in stats.values())} requests in {elapsed:.1f} s")
    return result


def _event_loop_runner() -> Callable[[Any], Any]:
    try:
        import uvloop  # installed with uvicorn[standard]; the cheaper loop keeps the generator's share small

        return lambda coro: uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        return asyncio.run


def app_requester(port: int, fixture: Fixture, mix: dict[str, int], page: int) -> Requester:
    host = f"Host: {HOST}:{port}\r\n"
    op = f"Authorization: Bearer {fixture.tokens['operator@jaif.example']}\r\n"
    applicants = [f"Authorization: Bearer {fixture.tokens[e]}\r\n" for e in APPLICANTS]
    ids = fixture.proposal_ids
    max_offset = max(0, fixture.total_proposals - page)

    def build(path: str, auth: str) -> bytes:
        return f"GET {path} HTTP/1.1\r\n{host}{auth}Accept: application/json\r\n\r\n".encode()

    calls_reqs = [build("/api/v1/calls", a) for a in applicants]
    projects_reqs = [build("/api/v1/projects", a) for a in applicants]
    makers: dict[str, Callable[[random.Random], bytes]] = {
        "list": lambda r: build(f"/api/v1/proposals?limit={page}&offset={r.randint(0, max_offset)}", op),
        "show": lambda r: build(f"/api/v1/proposals/{r.choice(ids)}", op),
        "calls": lambda r: r.choice(calls_reqs),
        "projects": lambda r: r.choice(projects_reqs),
    }
    names = [g for g in makers if mix.get(g, 0) > 0]
    weights = [mix[g] for g in names]

    def requester(r: random.Random) -> tuple[str, bytes]:
        group = r.choices(names, weights)[0]
        return group, makers[group](r)

    return requester


def bare_requester(port: int, path: str) -> Requester:
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n\r\n".encode()
    return lambda _r: ("bare", request)


# --------------------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(q / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def summarize(name: str, elapsed: float, stats: list[GroupStats]) -> dict[str, Any]:
    lat = sorted(x for s in stats for x in s.latencies_ms)
    errors = sum(s.errors for s in stats)
    return {
        "group": name,
        "requests": len(lat),
        "errors": errors,
        "req_per_s": len(lat) / elapsed,
        "p50_ms": percentile(lat, 50),
        "p99_ms": percentile(lat, 99),
        "max_ms": lat[-1] if lat else float("nan"),
        "error_samples": [e for s in stats for e in s.error_samples][:5],
    }


def _cpu(phase: PhaseResult) -> dict[str, float]:
    """Cores busy during a phase: the server's, the load generator's, the database server's (PostgreSQL) and
    everything else on the machine (work that is not the benchmark's and disturbs it)."""
    other = max(0.0, phase.machine_cpu_s - phase.server_cpu_s - phase.client_cpu_s - phase.database_cpu_s)
    return {
        "server_cpu_cores": phase.server_cpu_s / phase.elapsed_s,
        "client_cpu_cores": phase.client_cpu_s / phase.elapsed_s,
        "database_cpu_cores": phase.database_cpu_s / phase.elapsed_s,
        "other_cpu_cores": other / phase.elapsed_s,
    }


def figures(
    app: PhaseResult, bare: PhaseResult, args: argparse.Namespace, fixture: Fixture, backend: str
) -> dict[str, Any]:
    rows = [summarize(g, app.elapsed_s, [s]) for g, s in app.groups.items()]
    app_all = summarize("app (all)", app.elapsed_s, list(app.groups.values()))
    bare_all = summarize("bare", bare.elapsed_s, list(bare.groups.values()))
    ratio = app_all["req_per_s"] / bare_all["req_per_s"] if bare_all["req_per_s"] else float("nan")
    return {
        "config": {
            "database": backend,
            "proposals": fixture.total_proposals,
            "workers": args.workers,
            "clients": args.clients,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "mix": args.mix,
            "page_size": args.page_size,
            "bare_endpoint": args.bare_endpoint,
            "load": "closed loop" if args.rate is None else f"paced at {args.rate:g} req/s",
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "app": {
            "groups": rows,
            "all": app_all,
            "warmup_errors": app.warmup_errors,
            "warmup_error_samples": app.warmup_error_samples,
            **_cpu(app),
        },
        "bare": {
            "all": bare_all,
            "warmup_errors": bare.warmup_errors,
            "warmup_error_samples": bare.warmup_error_samples,
            **_cpu(bare),
        },
        "ratio": ratio,
        "targets": {
            "p99_ms_below": TARGET_P99_MS,
            "ratio_at_least": TARGET_RATIO,
            "p99_met": app_all["p99_ms"] < TARGET_P99_MS,
            # Under paced load both servers get the same offered rate: the ratio says nothing then.
            "ratio_met": ratio >= TARGET_RATIO if args.rate is None else None,
        },
    }


def print_table(fig: dict[str, Any]) -> None:
    c = fig["config"]
    print(
        f"\nAPI load: {c['proposals']} proposals on {c['database']}, uvicorn --workers {c['workers']}, "
        f"{c['clients']} clients, {c['duration_s']:g} s per phase (after {c['warmup_s']:g} s warm-up), "
        f"{c['cpus']} CPUs"
    )
    print(f"load: {c['load']}; mix: {c['mix']}; list page size {c['page_size']}; bare endpoint: {c['bare_endpoint']}\n")
    header = (
        f"{'endpoint group':<16}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))

    def line(r: dict[str, Any]) -> None:
        print(
            f"{r['group']:<16}{r['requests']:>10}{r['req_per_s']:>10.1f}{r['p50_ms']:>10.1f}"
            f"{r['p99_ms']:>10.1f}{r['max_ms']:>10.1f}{r['errors']:>8}"
        )

    for r in fig["app"]["groups"]:
        line(r)
    line(fig["app"]["all"])
    print("-" * len(header))
    line(fig["bare"]["all"])
    print()
    for phase in ("app", "bare"):
        f = fig[phase]
        db = f", PostgreSQL {f['database_cpu_cores']:.2f}" if c["database"] == "PostgreSQL" else ""
        print(
            f"CPU cores busy, {phase + ' phase:':<12}server {f['server_cpu_cores']:.2f}, load generator "
            f"{f['client_cpu_cores']:.2f}{db}, other processes {f['other_cpu_cores']:.2f} (of {c['cpus']})"
        )
    if max(fig["app"]["other_cpu_cores"], fig["bare"]["other_cpu_cores"]) > 0.25:
        print("warning: other processes were busy during the run; the figures are disturbed")
    t = fig["targets"]
    verdict = "n/a under paced load" if t["ratio_met"] is None else "met" if t["ratio_met"] else "NOT met"
    print(f"throughput ratio app/bare: {fig['ratio']:.1%}  (target >= {t['ratio_at_least']:.0%}: {verdict})")
    print(
        f"app p99: {fig['app']['all']['p99_ms']:.1f} ms  "
        f"(target < {t['p99_ms_below']:g} ms: {'met' if t['p99_met'] else 'NOT met'})"
    )
    for r in [*fig["app"]["groups"], fig["bare"]["all"]]:
        for sample in r["error_samples"]:
            print(f"error sample [{r['group']}]: {sample}")
    for phase in ("app", "bare"):
        if fig[phase]["warmup_errors"]:
            print(
                f"{fig[phase]['warmup_errors']} errors during the {phase} warm-up, e.g. "
                f"{fig[phase]['warmup_error_samples'][0]}"
            )


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def parse_mix(text: str) -> dict[str, int]:
    mix: dict[str, int] = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in ("list", "show", "calls", "projects") or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(f"bad mix entry {part!r}: use e.g. {DEFAULT_MIX}")
        mix[name.strip()] = int(weight)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("the mix needs at least one positive weight")
    return mix


def main(argv: list[str] | None = None) -> int:
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
    mix = parse_mix(args.mix)
    if not 1 <= args.clients <= 1000 or args.duration <= 0 or args.workers < 1 or args.proposals < 0:
        ap.error("need 1..1000 clients, a positive duration, at least 1 worker and proposals >= 0")
    if args.rate is not None and args.rate <= 0:
        ap.error("--rate must be positive")

    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so that the servers are stopped and the files removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aifactory-bench-")))
        database = None
        if args.database_url:
            url = stack.enter_context(throwaway_pg_database(args.database_url))
            backend, database = "PostgreSQL", url.rsplit("/", 1)[1].split("?")[0]
        else:
            url = f"sqlite:///{tmp / 'aifactory.db'}"
            backend = "SQLite"
        fixture = prepare_database(url, args.proposals, args.seed)

        env = {k: v for k, v in os.environ.items() if not k.startswith("AIFACTORY_")}
        env.update(
            AIFACTORY_DATABASE_URL=url,
            AIFACTORY_DATA_DIR=str(tmp / "data"),
            AIFACTORY_ENV="development",
            PYTHONUNBUFFERED="1",
        )
        op_token = fixture.tokens["operator@jaif.example"]
        app = start_server(
            "app", ["--factory", "aifactory.api.app:create_app"], env, args.workers, tmp, "/api/v1/health"
        )
        stack.callback(app.stop)
        bare_path = "/bare" if args.bare_endpoint == "sync" else "/bare-async"
        bare = start_server("bare", ["--app-dir", str(HERE), "bare_app:app"], env, args.workers, tmp, bare_path)
        stack.callback(bare.stop)

        # Functional check before load: the list sees every proposal, and each endpoint answers as expected.
        page = http_get_json(app.port, f"/api/v1/proposals?limit={args.page_size}&offset=0", op_token)
        if page["total"] != fixture.total_proposals or len(page["items"]) != min(
            args.page_size, fixture.total_proposals
        ):
            raise RuntimeError(
                f"proposals list: total {page['total']}, {len(page['items'])} items; expected {fixture.total_proposals}"
            )
        http_get_json(app.port, f"/api/v1/proposals/{fixture.proposal_ids[-1]}", op_token)
        for email in APPLICANTS:
            if not http_get_json(app.port, "/api/v1/projects", fixture.tokens[email])["items"]:
                raise RuntimeError(f"{email} should see a demo project")
            http_get_json(app.port, "/api/v1/calls", fixture.tokens[email])

        groups = [g for g in ("list", "show", "calls", "projects") if mix.get(g, 0) > 0]
        app_result = run_phase(
            "app",
            app,
            app_requester(app.port, fixture, mix, args.page_size),
            groups,
            args.clients,
            args.duration,
            args.warmup,
            args.seed,
            args.rate,
            database,
        )
        bare_result = run_phase(
            "bare",
            bare,
            bare_requester(bare.port, bare_path),
            ["bare"],
            args.clients,
            args.duration,
            args.warmup,
            args.seed,
            args.rate,
            database,
        )
        fig = figures(app_result, bare_result, args, fixture, backend)
        for server, key in ((app, "app"), (bare, "bare")):
            if fig[key]["all"]["errors"] or fig[key]["warmup_errors"]:
                log(f"{server.name} server log (last lines):\n{server.log_tail()}")

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
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # servers and files are already cleaned up by then
        log("interrupted")
        sys.exit(130)
