"""``create_app``: settings, engine and routers are built here, not at import time."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from .. import __version__
from ..config import Settings
from ..services.ports import Clock, SystemClock
from ..store.engine import make_engine, make_session_factory
from ..store.uow import SqlUnitOfWorkFactory
from . import problems
from .middleware import ConcurrencyLimit, pool_size_for
from .deps import AppContext
from .routes import ROUTERS

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, uow_factory: Any = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = None
    if uow_factory is None:
        engine = make_engine(settings.resolved_database_url, pool_size=pool_size_for(settings.max_concurrent_requests))
        uow_factory = SqlUnitOfWorkFactory(make_session_factory(engine))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        yield
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        lifespan=lifespan, title="aifactory API", version=__version__,
        description="Access calls, proposals, reviews, allocations and projects of an AI Factory.",
        openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs", redoc_url=None,
    )
    app.state.ctx = AppContext(settings=settings, uow_factory=uow_factory, clock=clock or SystemClock())
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.add_middleware(problems.BodySizeLimit, limit=settings.max_body_bytes)
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrent_requests)
    return app
