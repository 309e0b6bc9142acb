"""Many concurrent clients against the real server: admission control keeps the connection pool and the
thread pool from deadlocking (which used to surface as 500s after the pool timeout)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.cli import OPERATOR
from tests.support.live import LiveServer


def test_120_concurrent_requests_all_succeed(live: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {live.token(OPERATOR)}"}
    paths = ["/api/v1/proposals?limit=20", "/api/v1/proposals/1", "/api/v1/calls", "/api/v1/projects"]

    def get(i: int) -> int:
        with httpx.Client(base_url=live.url, headers=headers, timeout=60) as http:
            return http.get(paths[i % len(paths)]).status_code

    with ThreadPoolExecutor(max_workers=120) as pool:
        codes = list(pool.map(get, range(240)))
    assert codes.count(200) == len(codes), {c: codes.count(c) for c in set(codes)}
