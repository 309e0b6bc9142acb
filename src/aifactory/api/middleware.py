"""Admission control: at most N requests are processed at once; the rest wait (asynchronously, holding
no thread and no database connection).

Why: a request holds a database connection from its unit of work until the response is sent, and
FastAPI needs a worker thread to serialize that response. Without a bound, every thread can end up
waiting for a connection held by requests that wait for a thread — a deadlock that surfaced as 500s
after the pool timeout under 100 concurrent clients. With N requests in flight, each needing at most
two connections (authentication + unit of work), a pool of 2·N connections and more than N threads,
every admitted request can always finish.
"""

from __future__ import annotations

import re
from typing import Any

import anyio


class ConcurrencyLimit:
    """``exempt``: paths of long-lived streams, which hold no thread or connection while they wait and are
    bounded by a limit of their own."""

    def __init__(self, app: Any, limit: int, exempt: re.Pattern[str] | None = None):
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self._slots: anyio.Semaphore | None = None  # created lazily, inside the server's event loop

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (self.exempt is not None and self.exempt.match(scope["path"])):
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = anyio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)


def pool_size_for(limit: int) -> int:
    return 2 * limit + 2
