"""A small thread-safe LRU cache, one per app (``app.state``), for rendered pieces that are costly and change
only with their key (e.g. a burn-down chart: keyed by the allocation's running sums)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from fastapi import Request

T = TypeVar("T")


class LruCache:
    def __init__(self, size: int = 512):
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                hit: T = self._items[key]
                return hit
        value = make()  # outside the lock: two requests may both make it, both get the same answer
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def per_app(request: Request, name: str, make: Callable[[], T]) -> T:
    """The app's one ``name`` object (made on first use): caches live as long as their app, and apps on
    other databases never share one."""
    objects: dict[str, Any] = request.app.state.__dict__.setdefault("_web_objects", {})
    found: T | None = objects.get(name)
    if found is not None:
        return found
    made: T = objects.setdefault(name, make())  # atomic: one wins a race
    return made


def app_cache(request: Request, name: str, size: int = 512) -> LruCache:
    return per_app(request, f"lru_{name}", lambda: LruCache(size))


class SessionCache:
    """Signed-in users by session-secret hash for a few seconds, so that a page (or an htmx poll) does not
    read the session and the user again each time. Sign-out and password changes evict at once in this
    process; other worker processes notice within ``ttl`` seconds."""

    def __init__(self, ttl: float = 5.0, size: int = 4096):
        self.ttl, self.size = ttl, size
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str) -> Any | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or time.monotonic() - hit[0] > self.ttl:
                return None
            return hit[1]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def evict(self, key: str | None = None, *, user_id: int | None = None, token_id: int | None = None) -> None:
        """One session (by its hash), a user's sessions, or the sessions opened with an API token."""
        with self._lock:
            if key is not None:
                self._items.pop(key, None)
            if user_id is not None:
                for k in [k for k, (_, v) in self._items.items() if v[0].id == user_id]:
                    del self._items[k]
            if token_id is not None:
                for k in [k for k, (_, v) in self._items.items() if v[1].api_token_id == token_id]:
                    del self._items[k]
