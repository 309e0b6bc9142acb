"""A small thread-safe LRU cache, one per app (``app.state``), for rendered pieces that are costly and change
only with their key (e.g. a burn-down chart: keyed by the allocation's running sums)."""

from __future__ import annotations

import threading
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
                return self._items[key]
        value = make()  # outside the lock: two requests may both make it, both get the same answer
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def app_cache(request: Request, name: str, size: int = 512) -> LruCache:
    caches: dict[str, LruCache] = request.app.state.__dict__.setdefault("_web_caches", {})
    return caches.setdefault(name, LruCache(size))
