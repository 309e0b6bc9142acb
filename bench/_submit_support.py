"""Helpers for ``bench/submit_throughput.py``: the seeded database, a keep-alive HTTP submit client, and the
Slurm bookkeeping (every id we submit is tracked, so that everything can be cancelled on any exit)."""

from __future__ import annotations

import http.client
import json
import os
import pwd
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
PI_EMAIL = "anna@backhaus-kiel.example"  # the bakery PI: project 1, 500 GPU-hour playground allocation on booster
PROJECT_ID = 1


# --------------------------------------------------------------------------------------------------------------
# Database
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Fixture:
    url: str
    token: str  # the PI's API token
    account: str  # project 1's Slurm account


def prepare_database(url: str) -> Fixture:
    """Migrate a fresh database to head and seed the demo factory."""
    from aifactory.demo import seed_demo
    from aifactory.services.ports import SystemClock
    from aifactory.store.engine import make_engine, make_session_factory
    from aifactory.store.migrate import upgrade
    from aifactory.store.uow import SqlUnitOfWorkFactory

    upgrade(url)
    engine = make_engine(url)
    try:
        factory = SqlUnitOfWorkFactory(make_session_factory(engine))
        info = seed_demo(factory, SystemClock())
        with factory(write=False) as uow:
            project = uow.projects.get(PROJECT_ID)
            pi = uow.users.by_email(PI_EMAIL)
            if project is None or pi is None or project.role_of(pi.id) is None:
                raise RuntimeError(f"the demo seed changed: {PI_EMAIL} is not a member of project {PROJECT_ID}")
            account = project.slurm_account
    finally:
        engine.dispose()
    return Fixture(url=url, token=info.tokens[PI_EMAIL], account=account)


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


# --------------------------------------------------------------------------------------------------------------
# HTTP submit client (keep-alive, one connection per client thread)
# --------------------------------------------------------------------------------------------------------------


@dataclass
class SubmitResult:
    ok: bool
    status: int
    latency_s: float
    backend_id: str | None = None
    state: str = ""
    detail: str = ""


class JobClient:
    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.conn: http.client.HTTPConnection | None = None

    def submit(self, doc: dict[str, Any]) -> SubmitResult:
        body = json.dumps(doc).encode()
        t0 = time.perf_counter()
        for attempt in (1, 2):  # one retry for a keep-alive connection the server closed
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
                self.conn.request("POST", "/api/v1/jobs", body=body, headers=self.headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 2:
                    return SubmitResult(False, 0, time.perf_counter() - t0, detail=f"{type(exc).__name__}: {exc}")
        latency = time.perf_counter() - t0
        try:
            data = json.loads(raw)
        except ValueError:
            data = {}
        if resp.status != 201:
            return SubmitResult(False, resp.status, latency, detail=raw[:300].decode(errors="replace"))
        state, backend_id = data.get("state", ""), data.get("backend_id")
        if backend_id is None:  # stored, but the backend did not take it (e.g. sbatch refused or timed out)
            return SubmitResult(False, resp.status, latency, None, state, data.get("reason", "")[:300])
        return SubmitResult(True, resp.status, latency, str(backend_id), state)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run_parallel(
    n: int,
    clients: int,
    work: Callable[[int, Any], Any],
    make_state: Callable[[], Any],
    close_state: Callable[[Any], None],
    on_done: Callable[[Any], None],
) -> tuple[float, list[Any]]:
    """Items 0..n-1 shared by ``clients`` threads (each with its own state, e.g. a connection): the wall time
    from the first item started to the last finished, and the results in item order."""
    results: list[Any] = [None] * n
    next_item = iter(range(n))
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(clients + 1)
    stop = threading.Event()  # set when the caller is interrupted: no new item is started

    def worker() -> None:
        state = make_state()
        try:
            start.wait()
            while True:
                with lock:
                    i = None if stop.is_set() else next(next_item, None)
                if i is None:
                    return
                results[i] = work(i, state)
                on_done(results[i])
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)
        finally:
            close_state(state)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    except BaseException:  # Ctrl-C, SIGTERM: let the items in flight finish (their ids are tracked), no more
        stop.set()
        start.abort()
        for t in threads:
            t.join(150)
        raise
    if errors:
        raise errors[0]
    return elapsed, results


# --------------------------------------------------------------------------------------------------------------
# Slurm
# --------------------------------------------------------------------------------------------------------------


def me() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def sh(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def slurm_problem() -> str | None:
    """None when the controller answers and a node is up, else why not."""
    if shutil.which("sbatch") is None or shutil.which("scontrol") is None:
        return "the Slurm client commands are not installed"
    try:
        ping = sh(["scontrol", "ping"], 15)
        if ping.returncode != 0 or "is UP" not in ping.stdout:
            return f"the controller does not answer: {(ping.stdout + ping.stderr).strip()[:200]}"
        states = sh(["sinfo", "-h", "-N", "-o", "%T"], 15).stdout.split()
    except subprocess.TimeoutExpired:
        return "Slurm did not answer within 15 s"
    if not any(s.rstrip("~#!%$@^-") in ("idle", "mixed", "allocated", "completing") for s in states):
        return f"no node is up (sinfo: {' '.join(states)})"
    return None


def ensure_cluster(repo: Path, log: Callable[[str], None]) -> None:
    problem = slurm_problem()
    if problem is None:
        return
    script = repo / "scripts" / "slurm-dev-cluster"
    log(f"Slurm is not usable ({problem}); starting it with {script} start")
    proc = sh([str(script), "start"], 300)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} start failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    for _ in range(30):
        if (problem := slurm_problem()) is None:
            return
        time.sleep(1)
    raise RuntimeError(f"Slurm still not usable after start: {problem}")


def slurm_config(keys: Iterable[str]) -> dict[str, str]:
    wanted, out = set(keys), {}
    for line in sh(["scontrol", "show", "config"], 30).stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in wanted:
            out[key.strip()] = value.strip()
    return out


def account_exists(account: str) -> bool:
    return bool(sh(["sacctmgr", "-n", "-P", "show", "account", account, "format=account"], 30).stdout.strip())


@dataclass
class SlurmJobs:
    """Every Slurm id this run got (raw sbatch and through the gateway), and the accounts it used, so that
    everything can be cancelled whatever happens."""

    account: str | None = None
    ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job_id: str | None) -> None:
        if job_id:
            with self.lock:
                self.ids.add(str(job_id))

    def cancel(self, ids: Iterable[str] | None = None) -> list[str]:
        """scancel the ids (all of ours by default, in chunks) and, for all of ours, everything of this user
        in the account; returns the problems met."""
        problems = []
        ids = sorted(self.ids if ids is None else set(ids), key=int)
        for i in range(0, len(ids), 500):
            r = sh(["scancel", *ids[i : i + 500]], 60)
            if r.returncode != 0 and "Invalid job id" not in r.stderr:
                problems.append(f"scancel: {r.stderr.strip()[:200]}")
        if self.account:
            r = sh(["scancel", "--account", self.account, "--user", me()], 60)
            if r.returncode != 0:
                problems.append(f"scancel --account {self.account}: {r.stderr.strip()[:200]}")
        return problems

    def remaining(self) -> int:
        """Our jobs still known to squeue as not finished (pending, running, completing)."""
        argv = ["squeue", "-h", "-u", me(), "-o", "%F %T"]
        if self.account:
            argv += ["-A", self.account]
        out = sh(argv, 60).stdout.split("\n")
        with self.lock:
            ours = set(self.ids)
        return sum(1 for line in out if line.strip() and (line.split()[0] in ours or self.account))

    def wait_gone(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while (left := self.remaining()) and time.monotonic() < deadline:
            time.sleep(0.5)
        return left
