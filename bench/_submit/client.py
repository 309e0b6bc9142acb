"""Submitting jobs over HTTP for ``bench/submit_throughput.py``: a keep-alive client (one connection per client
thread), and items shared by concurrent threads."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from _harness.servers import HOST


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
