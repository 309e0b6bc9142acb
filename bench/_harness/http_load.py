"""The load generator: keep-alive HTTP/1.1 clients on raw asyncio streams, one connection each.

Why raw asyncio streams and not httpx.AsyncClient: the generator shares the machine's two cores with the
server, so every microsecond it spends per request is taken from the server. Measured with
bench/client_overhead.py on the 2-core development machine (bare async endpoint, 1 worker, 50 clients):
  client                                 req/s    client CPU per request
  raw keep-alive HTTP/1.1 (this code)    7-10k    40-60 µs
  one httpx.AsyncClient, pool of 50        160    5.6-6.4 ms  (pool degrades at 50 concurrent)
  one httpx.AsyncClient per client      750-900   1.1-1.3 ms
The bare server needs about 100 µs (async endpoint) to 300-400 µs (sync endpoint) of CPU per request, so
httpx would be the bottleneck of the baseline by a factor of 3 to 60 and make the app/bare ratio
meaningless; the raw client costs a fraction of the server's work (0.1-0.25 cores in the bare phase).
Requests are pre-formatted bytes; the parser reads the status line, Content-Length (or chunks) and the
body, and nothing else."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .servers import HOST

T = TypeVar("T")
#: The next request of a client: (its group, the request's bytes).
Requester = Callable[[random.Random], tuple[str, bytes]]


def get_request(port: int, path: str, headers: dict[str, str] | None = None, accept: str = "application/json") -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: {accept}\r\n{extra}\r\n".encode()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop (installed with uvicorn[standard]): the cheaper loop keeps the generator's share small."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        return asyncio.run(coro)
    return uvloop.run(coro)


@dataclass
class GroupStats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    bytes_per_response: int = 0  # of the last 200 answer

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)

    def record(self, status: int, body: bytes, ms: float) -> None:
        if status == 200:
            self.latencies_ms.append(ms)
            self.bytes_per_response = len(body)
        else:
            self.error(f"HTTP {status}: {body[:200]!r}")


def requests_of(stats: dict[str, GroupStats]) -> int:
    return sum(len(s.latencies_ms) for s in stats.values())


def errors_of(stats: dict[str, GroupStats]) -> tuple[int, list[str]]:
    """The errors of all groups, and up to five samples."""
    return sum(s.errors for s in stats.values()), [e for s in stats.values() for e in s.error_samples][:5]


class HttpError(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
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


class _Connection:
    """One keep-alive connection, opened on first use and again after the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        reused = self.streams is not None
        try:
            status, body, keep_alive = await self._send(request)
        except asyncio.IncompleteReadError as exc:
            if not reused or exc.partial:  # a fresh connection that fails is a real error
                raise
            # the server closed an idle keep-alive connection (a client "reading the page"): again, as a browser does
            self.close()
            status, body, keep_alive = await self._send(request)
        if not keep_alive:
            self.close()
        return status, body

    async def _send(self, request: bytes) -> tuple[int, bytes, bool]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(HOST, self.port)
        reader, writer = self.streams
        writer.write(request)
        return await read_response(reader)

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


@dataclass(frozen=True)
class Pace:
    """How a client sends. Closed loop (the default): the next request goes out as soon as the answer is in.
    ``interval``: requests are due every ``interval`` seconds (random phase), and latency is counted from when
    a request was due, so a server that falls behind is not flattered (no coordinated omission).
    ``think_s``: an exponential pause of this mean before each request, like a person reading the page."""

    interval: float | None = None
    think_s: float = 0.0


class _Budget:
    """When the clients stop: at a deadline (perf_counter), or after ``requests`` requests in all."""

    def __init__(self, stop_at: float | None, requests: int | None) -> None:
        self.stop_at, self.left = stop_at, requests

    def take(self, at: float) -> bool:
        if self.stop_at is not None and at >= self.stop_at:
            return False
        if self.left is not None:
            if self.left <= 0:
                return False
            self.left -= 1
        return True


async def _client(
    port: int, requester: Requester, rng: random.Random, budget: _Budget, stats: dict[str, GroupStats], pace: Pace
) -> None:
    conn, interval = _Connection(port), pace.interval
    due = time.perf_counter() + (rng.uniform(0, interval) if interval else 0.0)
    try:
        while True:
            if interval is not None:
                if not budget.take(due):
                    return
                if (delay := due - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
                t0, due = due, due + interval
            else:
                if not budget.take(time.perf_counter()):
                    return
                if pace.think_s > 0:
                    await asyncio.sleep(rng.expovariate(1 / pace.think_s))
                t0 = time.perf_counter()
            group, request = requester(rng)
            try:
                status, body = await conn.exchange(request)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as exc:
                stats[group].error(f"{type(exc).__name__}: {exc}")
                conn.close()
                await asyncio.sleep(0.01)  # a refused or reset connection must not spin the loop
                continue
            stats[group].record(status, body, (time.perf_counter() - t0) * 1000.0)
    finally:
        conn.close()


async def _drive(
    port: int,
    requesters: Sequence[Requester],
    stats: dict[str, GroupStats],
    seed: int,
    budget: _Budget,
    pace: Pace,
    timeout: float,
) -> float:
    t0 = time.perf_counter()
    clients = [_client(port, r, random.Random(seed * 1000 + i), budget, stats, pace) for i, r in enumerate(requesters)]
    tasks = [asyncio.ensure_future(c) for c in clients]
    done, pending = await asyncio.wait(tasks, timeout=timeout)  # bounded even if the server hangs
    first = next(iter(stats.values()))
    for task in pending:
        task.cancel()
        first.error(f"a client still waited for an answer after {timeout:.0f} s")
    for task in done:
        if task.exception() is not None:
            first.error(f"client failed: {task.exception()!r}")
    return time.perf_counter() - t0


def run_load(
    port: int,
    requesters: Sequence[Requester],
    groups: Sequence[str],
    *,
    seed: int = 1,
    duration: float | None = None,
    requests: int | None = None,
    pace: Pace | None = None,
    timeout: float | None = None,
) -> tuple[float, dict[str, GroupStats]]:
    """One client per requester, for ``duration`` seconds or ``requests`` requests in all: the elapsed time and
    the figures per group. ``timeout`` (default: the duration + 30 s) bounds the wait for the last answers."""
    stats = {g: GroupStats() for g in groups}
    wait = timeout if timeout is not None else (duration or 0.0) + 30

    async def go() -> float:
        stop_at = time.perf_counter() + duration if duration is not None else None
        return await _drive(port, requesters, stats, seed, _Budget(stop_at, requests), pace or Pace(), wait)

    return run_async(go()), stats


def probe(port: int, request: bytes, timeout: float = 120) -> tuple[int, bytes, float]:
    """One request alone on a fresh connection (e.g. the first of a page: cold caches): status, body, ms."""

    async def one() -> tuple[int, bytes, float]:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            t0 = time.perf_counter()
            writer.write(request)
            status, body, _ = await asyncio.wait_for(read_response(reader), timeout)
            return status, body, (time.perf_counter() - t0) * 1000
        finally:
            writer.close()

    return run_async(one())
