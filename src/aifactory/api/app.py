"""``create_app``: settings, engine and routers are built here, not at import time."""

from __future__ import annotations

import dataclasses
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from .. import __version__
from ..catalog import load_templates
from ..config import Settings
from ..notify import build_senders
from ..runtime import Reconciler, build_gateway, build_storage
from ..services import catalog
from ..services.accounting import AccountingState
from ..services.jobs import Gateway
from ..services.ports import Clock, SystemClock
from ..services.throttle import Rules, Throttle
from ..store.engine import make_engine, make_session_factory
from ..store.uow import SqlUnitOfWorkFactory
from ..web import install_portal
from ..web.routes.proposal_plan import PORTAL_ATTACHMENT_PATH
from . import problems
from .deps import AppContext
from .logstream import STREAM_PATH, StreamSlots
from .middleware import ConcurrencyLimit, pool_size_for
from .routes import ROUTERS
from .routes.proposal_files import ATTACHMENT_PATH
from .routes.storage import CHUNK_PATH

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    *,
    uow_factory: Any = None,
    clock: Clock | None = None,
    gateway: Gateway | None = None,
) -> FastAPI:
    """The app. While it is served (its lifespan), the reconciler (jobs, ledger, accounting, notifications)
    runs every ``settings.reconcile_seconds`` on a thread of its own."""
    settings = settings or Settings()
    engine = None
    if uow_factory is None:
        engine = make_engine(settings.resolved_database_url, pool_size=pool_size_for(settings.max_concurrent_requests))
        uow_factory = SqlUnitOfWorkFactory(make_session_factory(engine))
    gateway = gateway or build_gateway(settings)
    if gateway.storage is None:  # jobs take their inputs from the app's own storage
        gateway = dataclasses.replace(gateway, storage=build_storage(settings, gateway.identities))
    ctx = AppContext(
        settings=settings,
        uow_factory=uow_factory,
        clock=clock or SystemClock(),
        gateway=gateway,
        log_streams=StreamSlots(settings.max_log_streams, per_user=settings.max_log_streams_per_user),
        storage=gateway.storage or build_storage(settings, gateway.identities),
        throttle=Throttle(
            settings.throttle_storage,
            Rules(
                settings.throttle_signin_account,
                settings.throttle_signin_address,
                settings.throttle_mail_account,
                settings.throttle_mail_address,
            ),
        ),
    )

    templates = load_templates(settings.templates_dir)  # a broken template stops the start, naming its file

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        if settings.reconcile_seconds > 0:
            ctx.reconciler = Reconciler(
                ctx.uow_factory,
                ctx.clock,
                ctx.gateway,
                settings.reconcile_seconds,
                senders=build_senders(settings),
                max_attempts=settings.notify_max_attempts,
                accounting=AccountingState(interval=timedelta(seconds=settings.accounting_seconds)),
                storage=ctx.storage,
            )
            ctx.reconciler.start()
        yield
        if ctx.reconciler is not None:
            ctx.reconciler.stop()
            ctx.reconciler = None
        if engine is not None:
            engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="aifactory API",
        version=__version__,
        description="Access calls, proposals, reviews, allocations, projects and jobs of an AI Factory.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.templates = catalog.TemplateSync(templates)  # into the catalog on first use
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    install_portal(app)
    files = settings.proposal_attachment_max_bytes
    larger = (
        ("PUT", CHUNK_PATH, settings.storage_chunk_bytes),
        ("PUT", ATTACHMENT_PATH, files),
        ("POST", PORTAL_ATTACHMENT_PATH, files + (64 << 10)),  # a multipart form: the file and a few fields
    )
    app.add_middleware(problems.BodySizeLimit, limit=settings.max_body_bytes, larger=larger)
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrent_requests, exempt=STREAM_PATH)
    return app
