"""The portal's pages profiled in process: the app driven in this thread (httpx's ASGI transport; FastAPI's
thread pool replaced by inline calls so that cProfile sees the endpoint's work). Per page, its first request
alone (cold: what caches hide) and N more: wall time, every SQL statement timed, the top functions."""

from __future__ import annotations

import asyncio
import cProfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _harness.report import Log, profile_top
from _harness.servers import HOST

from .pages import Page, login_form


class _SqlTimer:
    """Every SQL statement's time while ``on`` (SQLAlchemy cursor events on all engines)."""

    def __init__(self) -> None:
        self.on = False
        self.statements: dict[str, list[float]] = {}

    def before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("t0", []).append(time.perf_counter())

    def after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        ms = (time.perf_counter() - conn.info["t0"].pop()) * 1000
        if self.on:
            self.statements.setdefault(" ".join(statement.split()), []).append(ms)

    @contextmanager
    def listening(self) -> Iterator[None]:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self.before)
        event.listen(Engine, "after_cursor_execute", self.after)
        try:
            yield
        finally:
            event.remove(Engine, "before_cursor_execute", self.before)
            event.remove(Engine, "after_cursor_execute", self.after)


@contextmanager
def _inline_threadpool() -> Iterator[None]:
    """FastAPI's ``run_in_threadpool`` calls the function in the event loop's thread, for cProfile."""
    import fastapi.dependencies.utils as fdu
    import fastapi.routing as frt

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    saved = (frt.run_in_threadpool, fdu.run_in_threadpool)
    frt.run_in_threadpool = fdu.run_in_threadpool = inline
    try:
        yield
    finally:
        frt.run_in_threadpool, fdu.run_in_threadpool = saved


def _phase_figures(count: int, wall: float, timer: _SqlTimer, prof: cProfile.Profile) -> dict[str, Any]:
    stmts = timer.statements
    top = sorted(stmts.items(), key=lambda kv: -sum(kv[1]))[:8]
    return {
        "requests": count,
        "wall_ms_per_req": wall,
        "sql_statements_per_req": sum(len(v) for v in stmts.values()) / count,
        "sql_ms_per_req": sum(sum(v) for v in stmts.values()) / count,
        "top_sql": [
            {
                "ms_per_req": sum(v) / count,
                "calls_per_req": len(v) / count,
                "ms_per_call": sum(v) / len(v),
                "sql": s[:600],
            }
            for s, v in top
        ],
        "top_tottime": profile_top(prof, "tottime", 15),
        "top_cumulative": profile_top(prof, "cumulative", r"aifactory|jinja2|sqlalchemy/orm", 25),
    }


async def _profile_page(ac: Any, page: Page, headers: dict[str, str], n: int, timer: _SqlTimer, log: Log) -> Any:
    """The page's figures, cold and warm (None when it does not answer 200)."""
    entry: dict[str, Any] = {"page": page.name, "path": page.path, "requests": n}
    for phase, count in (("cold", 1), ("warm", n)):  # cold: the page's first request (empty caches)
        timer.statements.clear()
        timer.on = True
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for _ in range(count):
            status = (await ac.get(page.path, headers=headers)).status_code
        prof.disable()
        wall = (time.perf_counter() - t0) * 1000 / count
        timer.on = False
        if status != 200:
            return None
        x = entry[phase] = _phase_figures(count, wall, timer, prof)
        log(
            f"profile {page.name} ({phase}): {wall:.1f} ms/request in process (profiled), SQL "
            f"{x['sql_ms_per_req']:.1f} ms in {x['sql_statements_per_req']:.1f} statements"
        )
    return entry


def profile_pages(url: str, data_dir: Path, plist: list[Page], n: int, password: str, log: Log) -> list[dict[str, Any]]:
    import httpx

    from aifactory.api.app import create_app
    from aifactory.config import Settings

    settings = Settings(_env_file=None, database_url=url, data_dir=data_dir, reconcile_seconds=0, env="test")
    settings.ensure_dirs()
    timer = _SqlTimer()
    results: list[dict[str, Any]] = []

    async def run() -> None:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}", follow_redirects=False) as ac:
            cookies = {}
            for who in sorted({p.who for p in plist if p.who}):
                ac.cookies.clear()
                form = login_form((await ac.get("/login")).text, who, password)
                resp = await ac.post("/login", data=form)
                cookies[who] = resp.cookies.get("aif_session") or ac.cookies.get("aif_session")
            for page in plist:
                ac.cookies.clear()
                headers = dict(page.headers, Cookie=f"aif_session={cookies[page.who]}") if page.who else page.headers
                if (entry := await _profile_page(ac, page, headers, n, timer, log)) is not None:
                    results.append(entry)

    with _inline_threadpool(), timer.listening():
        asyncio.run(run())
    return results
