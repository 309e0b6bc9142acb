"""Dependencies as Annotated aliases: the unit of work (read or write), the authenticated actor, paging."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..config import Settings
from ..domain.access import PageRequest
from ..domain.errors import Unauthorized
from ..domain.stored import stored
from ..domain.teams import ScopedRequest
from ..runtime import Reconciler
from ..services import identity, scopes
from ..services.context import Actor
from ..services.jobs import Gateway
from ..services.ports import Clock
from ..services.proposal_files import AttachmentArea
from ..services.storage_disk import StorageArea
from ..services.throttle import Throttle
from .logstream import StreamSlots
from .schemas.common import MAX_ID


@dataclass
class AppContext:
    """What create_app builds once and every request shares (no module globals)."""

    settings: Settings
    uow_factory: Any  # callable(write: bool) -> unit of work
    clock: Clock
    gateway: Gateway
    log_streams: StreamSlots
    storage: StorageArea
    reconciler: Reconciler | None = None  # running while the app is served (lifespan)
    throttle: Throttle = field(default_factory=Throttle)  # sign-in and e-mailed links (services.throttle)

    @property
    def attachments(self) -> AttachmentArea:
        """Where proposals' attachments live, and the site's largest."""
        return AttachmentArea(self.storage.data_dir, self.settings.proposal_attachment_max_bytes)

    def kick_reconciler(self) -> None:
        """Run the reconciler's next pass now (new work for it: an accepted proposal, a pending cancel)."""
        if self.reconciler is not None:
            self.reconciler.kick()


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def _uow(request: Request, ctx: Ctx) -> Iterator[Any]:
    """GET/HEAD read without the write lock; everything else runs in a writing transaction."""
    write = request.method not in ("GET", "HEAD")
    with ctx.uow_factory(write=write) as uow:
        yield uow


Uow = Annotated[Any, Depends(_uow)]
_bearer = HTTPBearer(auto_error=False, description="API token (aif_…), from `aifactory login` or POST /register")


def _scoped_request(request: Request) -> ScopedRequest:
    """The request as a token's scope sees it: its method, its route's template and the ids it names."""
    route = getattr(request.scope.get("route"), "path", request.url.path)
    route = route.removeprefix("/api/v1")
    params = {**request.query_params, **request.path_params}

    def number(name: str) -> int | None:
        value = str(params.get(name, ""))
        return int(value) if value.isdigit() and len(value) < 12 else None

    return ScopedRequest(request.method, route, project_id=number("project_id"), job_id=number("job_id"))


def _actor(
    request: Request, ctx: Ctx, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    with ctx.uow_factory(write=False) as uow:
        user, tok = identity.authenticate(uow, ctx.clock, creds.credentials)
        scopes.check_request(uow, tok, _scoped_request(request))  # the token's scope (services.scopes)
        stale = identity.token_needs_touch(tok, ctx.clock)
    if stale:
        with ctx.uow_factory(write=True) as uow:
            identity.touch_token(uow, ctx.clock, stored(tok.id, "token"))
    return scopes.actor_for(Actor(user), tok)


CurrentActor = Annotated[Actor, Depends(_actor)]


def _page(
    limit: Annotated[int, Query(ge=1, le=200, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")] = 0,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


Paging = Annotated[PageRequest, Depends(_page)]


IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def client_address(request: Request) -> str:
    """The client's IP address as the server sees it (behind a proxy: run uvicorn with --proxy-headers and
    --forwarded-allow-ips so that it is the client's, not the proxy's); what sign-in throttling counts by."""
    return request.client.host if request.client is not None else ""
