"""Servers under test: uvicorn as a subprocess in its own process group on a free port of 127.0.0.1, serving
the application (what ``aifactory serve`` runs) or the bare FastAPI baseline (``bare_app.py``)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cpu import process_cpu_seconds, process_group
from .report import Log

HOST = "127.0.0.1"
APP = ["--factory", "aifactory.api.app:create_app"]
BARE = ["--app-dir", str(Path(__file__).resolve().parent), "bare_app:app"]
HEALTH = "/api/v1/health"


def bare_path(endpoint: str) -> str:
    """The bare app's path for ``sync`` (a plain def, run in the threadpool like the app's) or ``async``."""
    return "/bare" if endpoint == "sync" else "/bare-async"


def server_env(url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any AIFACTORY_ setting, plus the database, the data folder and
    ``settings`` (e.g. ``AIFACTORY_ENV="test"``; the default environment is development)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIFACTORY_")}
    env.update(
        AIFACTORY_DATABASE_URL=url,
        AIFACTORY_DATA_DIR=str(data_dir),
        AIFACTORY_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


def free_port() -> int:
    with socket.create_server((HOST, 0)) as s:
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def cpu_seconds(self) -> float:
        """user + system CPU time of the server's processes so far (its workers share its process group)."""
        return sum(process_cpu_seconds(pid) for pid in process_group(self.proc.pid))

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
                return
            self.proc.wait(timeout=10)


def _answers(port: int, path: str) -> bool:
    try:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)  # no proxies: http.client is direct
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status == 200
    except OSError:
        return False


def start_server(
    name: str,
    target: list[str],
    env: dict[str, str],
    workers: int,
    log_dir: Path,
    log: Log,
    ready_path: str = HEALTH,
    timeout: float = 60,
) -> Server:
    """uvicorn serving ``target`` (APP, BARE) with ``workers`` processes, once ``ready_path`` answers 200."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", *target, "--host", HOST, "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log", "--workers", str(workers)]
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    server = Server(name, proc, port, log_path)
    deadline = time.monotonic() + timeout
    while not _answers(port, ready_path):
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited with {proc.returncode}:\n{server.log_tail()}")
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} server not ready after {timeout:.0f} s:\n{server.log_tail()}")
        time.sleep(0.1)
    log(f"{name} server up on {HOST}:{port} (pid {proc.pid}, {workers} worker(s))")
    return server


def http_get_json(port: int, path: str, token: str | None = None) -> Any:
    """One GET with a bearer token; the JSON of a 200 answer (anything else raises)."""
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
