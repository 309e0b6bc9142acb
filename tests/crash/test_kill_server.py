"""Kill the server at any moment and restart it: no job is lost, none is duplicated.

A real ``aifactory serve`` process (SQLite, the reconciler thread on) is SIGKILLed (a) exactly between
"the backend has the job" and "its id is stored" (a fault-injection point, allowed only with
AIFACTORY_ENV=test), and (b) at random moments while a client submits jobs with idempotency keys and
retries whatever failed, as a careful client does. After the restarts, every key maps to one stored job,
every stored job to exactly one backend job (found by the comment the gateway writes into it), and every
job completes. Runs on the local executor and on the real Slurm cluster."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.demo import PEOPLE, seed_demo_sqlite
from tests.support.live import free_port
from tests.support.slurm import slurm_unavailable

TERMINAL = {"completed", "failed", "cancelled", "timeout"}
pytestmark = pytest.mark.slow


class Server:
    """``python -m aifactory serve`` in its own process group, on a fresh port each start."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.proc = env, log, None
        self.url = ""

    def start(self, **extra: str) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/api/v1"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "aifactory", "serve", "--port", str(port)],
                env={**self.env, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            time.sleep(0.05)
        raise AssertionError("the server did not start:\n" + self.log.read_text()[-2000:])

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def dead(self, timeout: float = 10) -> bool:
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False


@dataclass
class Factory:
    """A demo factory behind a server not started yet: its backend kind, the bakery PI's token, the folder
    with the server's data, and the site name its backend jobs carry in their comments."""

    kind: str
    server: Server
    token: str
    root: Path
    site: str


@pytest.fixture(params=["local", pytest.param("slurm", marks=pytest.mark.slurm)])
def factory_env(request: pytest.FixtureRequest, _sqlite_template: Path, tmp_path: Path) -> Iterator[Factory]:
    if request.param == "slurm" and (reason := slurm_unavailable()):
        if os.environ.get("AIFACTORY_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    seeded = seed_demo_sqlite(_sqlite_template, tmp_path / "factory.db")
    tmp_path.chmod(0o755)
    site = f"crash{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "AIFACTORY_ENV": "test",
        "AIFACTORY_DATABASE_URL": seeded.url,
        "AIFACTORY_DATA_DIR": str(tmp_path / "data"),
        "AIFACTORY_BACKEND": request.param,
        "AIFACTORY_SITE": site,
        "AIFACTORY_RECONCILE_SECONDS": "0.3",
        "AIFACTORY_ORPHAN_AFTER_SECONDS": "3",
        "AIFACTORY_GPU_SLOTS": "0",
    }
    server = Server(env, tmp_path / "server.log")
    yield Factory(request.param, server, seeded.info.tokens[PEOPLE["anna"]], tmp_path, site)
    server.kill()
    if request.param == "slurm" and (ids := _slurm_ids(site)):
        subprocess.run(["scancel", "--quiet", *ids], check=False)


def _slurm_comments(site: str) -> dict[str, str]:
    """Slurm job id -> comment, for this test's jobs: the queue (fresh jobs may not be accounted yet)
    and accounting (finished jobs leave the queue after MinJobAge)."""
    queue = subprocess.run(
        ["squeue", "-h", "-a", "-t", "all", "-o", "%i|%k"], capture_output=True, text=True, check=True
    ).stdout
    acct = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-a", "-S", "now-1hours", "-o", "JobIDRaw,Comment"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pairs = (line.split("|", 1) for line in (queue + acct).splitlines() if f"aif:{site}:" in line)
    return {job_id.split("_")[0]: comment for job_id, comment in pairs}


def _slurm_ids(site: str) -> list[str]:
    return list(_slurm_comments(site))


def backend_jobs(f: Factory) -> Counter[str]:
    """How many backend jobs carry each comment (each must carry exactly one)."""
    if f.kind == "local":
        metas = [json.loads(p.read_text()) for p in (f.root / "data").rglob("job.json")]  # wherever it keeps them
        return Counter(m["comment"] for m in metas)
    return Counter(_slurm_comments(f.site).values())


def spec(key: str) -> dict:
    return {"name": f"job-{key}", "project": 1, "command": ["true"], "resources": {"time": 2}, "idempotency_key": key}


def submit_until_answered(server: Server, token: str, key: str, tries: int = 200) -> dict:
    """What a careful client does: the same key again until the server answers."""
    for _ in range(tries):
        try:
            r = httpx.post(
                f"{server.url}/jobs", json=spec(key), headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            assert r.status_code in (200, 201), r.text
            return r.json()
        except httpx.TransportError:
            time.sleep(0.1)  # killed meanwhile: the test restarts it
    raise AssertionError(f"no answer for {key}")


def all_jobs(server: Server, token: str) -> list[dict]:
    r = httpx.get(f"{server.url}/jobs?limit=200", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return r.json()["items"]


def wait_all_final(server: Server, token: str, timeout: float = 120) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = all_jobs(server, token)
        if all(j["state"] in TERMINAL for j in jobs) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.3)


def check_exactly_once(f: Factory, jobs: list[dict]) -> None:
    deadline = time.monotonic() + 20  # slurmdbd records finished jobs with a short lag
    while len(on_backend := backend_jobs(f)) < len(jobs) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert all(n == 1 for n in on_backend.values()), f"duplicated on the backend: {on_backend}"
    assert len(on_backend) == len(jobs), (on_backend, [(j["id"], j["backend_id"]) for j in jobs])
    assert len({j["backend_id"] for j in jobs}) == len(jobs) and all(j["backend_id"] for j in jobs)
    assert [j["state"] for j in jobs] == ["completed"] * len(jobs), [(j["id"], j["state"], j["reason"]) for j in jobs]


def test_killed_between_backend_submit_and_storing_the_id(factory_env: Factory) -> None:
    server, token = factory_env.server, factory_env.token
    server.start(AIFACTORY_FAULT_INJECTION="crash-after-backend-submit")
    with pytest.raises(httpx.TransportError):  # the server dies answering this request
        httpx.post(
            f"{server.url}/jobs", json=spec("exactly-once"), headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
    assert server.dead(), "the fault did not kill the server"
    assert sum(backend_jobs(factory_env).values()) == 1  # the backend has it; the database has no id
    server.start()
    again = submit_until_answered(server, token, "exactly-once")  # the client's retry: the same job
    jobs = wait_all_final(server, token)
    assert [j["id"] for j in jobs] == [again["id"]]
    check_exactly_once(factory_env, jobs)
    assert "adopted after an interrupted submission" in " ".join(e["detail"] for e in jobs[0]["events"])


def test_killed_at_random_moments(factory_env: Factory) -> None:
    server, token = factory_env.server, factory_env.token
    rng = random.Random(20261123)
    server.start()
    keys = [f"k{i}" for i in range(10)]
    answered: dict[str, int] = {}
    kills = 0
    for key in keys:
        if rng.random() < 0.5:  # kill at a random moment while this submission is in flight
            timer = threading.Timer(rng.uniform(0.0, 0.05), server.kill)
            timer.start()
            with contextlib.suppress(AssertionError, httpx.TransportError):
                answered[key] = submit_until_answered(server, token, key, tries=1)["id"]
            timer.join()
            if server.proc.poll() is not None:
                kills += 1
                server.start()
        answered[key] = submit_until_answered(server, token, key)["id"]
    jobs = wait_all_final(server, token)
    assert kills >= 2, "the test killed the server too rarely to prove anything"
    assert sorted(j["id"] for j in jobs) == sorted(answered.values())  # one job per key, none extra
    check_exactly_once(factory_env, jobs)
