"""Following a log as server-sent events.

The stream holds no database connection and no worker thread while it waits: the job is looked up once,
then each read of the log file runs briefly in the thread pool. Whether the job is over comes from the
database or the reconciler's shared status (``services.status_board``): a follower never polls the scheduler
itself. Streams are exempt from the request admission limit (they last long) and bounded by their own
limits, in all (``AIFACTORY_MAX_LOG_STREAMS``) and per user (``AIFACTORY_MAX_LOG_STREAMS_PER_USER``); beyond
either, a 429. Each ``log`` event's id is the byte offset to resume from (``Last-Event-ID``); an ``end``
event says the job is over and everything was sent; comment lines keep idle connections alive."""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal, Protocol

from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..domain.errors import DomainError
from ..services import job_outputs
from ..services.context import Actor
from ..services.gateway import Gateway
from ..services.ports import UnitOfWorkFactory

STREAM_PATH = re.compile(r"^/api/v1/jobs/[0-9]+/logs/stream$")
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
RELOOK_SECONDS = 1.0  # a job still without a backend id is looked up again this often


class TooManyStreams(DomainError):
    status = 429
    title = "Too many requests"


class StreamSlots:
    """Counters of open streams, in all and per user (thread-safe); ``take`` refuses beyond either limit."""

    def __init__(self, limit: int, per_user: int | None = None) -> None:
        self.limit, self.per_user, self.open = limit, per_user or limit, 0
        self.by_user: dict[int, int] = {}
        self._lock = threading.Lock()

    def take(self, user_id: int) -> None:
        with self._lock:
            if self.by_user.get(user_id, 0) >= self.per_user:
                raise TooManyStreams(
                    f"you have {self.per_user} log streams open already (the most one user may hold); close one, "
                    "or read GET /jobs/{id}/logs by offset"
                )
            if self.open >= self.limit:
                raise TooManyStreams(
                    f"{self.limit} log streams are open already; retry later or read GET /jobs/{{id}}/logs by offset"
                )
            self.open += 1
            self.by_user[user_id] = self.by_user.get(user_id, 0) + 1

    def give(self, user_id: int) -> None:
        with self._lock:
            self.open -= 1
            left = self.by_user.get(user_id, 0) - 1
            if left > 0:
                self.by_user[user_id] = left
            else:
                self.by_user.pop(user_id, None)


class StreamContext(Protocol):
    """What following a log needs of the application's context (``api.deps.AppContext``)."""

    @property
    def uow_factory(self) -> UnitOfWorkFactory: ...
    @property
    def gateway(self) -> Gateway: ...
    @property
    def log_streams(self) -> StreamSlots: ...


def _event(kind: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def _resume_offset(request: Request, offset: int) -> int:
    last = request.headers.get("last-event-id", "")
    return int(last) if last.isdigit() and len(last) < 16 else offset


async def follow(
    request: Request,
    ctx: StreamContext,
    actor: Actor,
    job_id: int,
    stream: Literal["stdout", "stderr"],
    task: int,
    offset: int,
) -> StreamingResponse:
    def lookup() -> job_outputs.LogSource:
        with ctx.uow_factory(write=False) as uow:
            return job_outputs.log_source(uow, actor, ctx.gateway, job_id, stream, task)

    source = await run_in_threadpool(lookup)
    slots = ctx.log_streams
    slots.take(actor.id)
    return StreamingResponse(
        _events(request, lookup, source, _resume_offset(request, offset), lambda: slots.give(actor.id)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request,
    lookup: Callable[[], job_outputs.LogSource],
    source: job_outputs.LogSource,
    offset: int,
    release: Callable[[], None],
) -> AsyncIterator[bytes]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    quiet_since = looked_at = time.monotonic()
    try:
        while not await request.is_disconnected():
            if source.backend_id is None and time.monotonic() - looked_at > RELOOK_SECONDS:
                source, looked_at = await run_in_threadpool(lookup), time.monotonic()  # submitted meanwhile?
            chunk = await run_in_threadpool(source.read, offset)
            offset = chunk.offset
            if chunk.data:
                text = decoder.decode(chunk.data)
                sent = offset - len(decoder.getstate()[0])  # a split UTF-8 character is resent on resume
                yield _event("log", {"text": text, "offset": sent}, sent)
                quiet_since = time.monotonic()
            if chunk.complete:
                yield _event("end", {"offset": offset})
                return
            if not chunk.data:
                if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                    yield b": keep-alive\n\n"
                    quiet_since = time.monotonic()
                await asyncio.sleep(POLL_SECONDS)
    finally:
        release()
