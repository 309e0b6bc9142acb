"""The tokens page: the signed-in user's API tokens; create one with an expiry and a scope (read-only, jobs, or
one project), see its secret once, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.access import PageRequest
from ...domain.errors import DomainError, InvalidInput
from ...domain.teams import TokenScope
from ...services import identity, projects
from ..forms import as_int, field_errors, read_form
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer, session_cache

router = APIRouter()
FIELDS = {"name", "ttl_days", "scope", "project_id"}


def _page(request: Request, viewer: Viewer, status: int = 200, **context: object) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        tokens = sorted(uow.tokens.for_user(viewer.actor.id), key=lambda t: t.id or 0, reverse=True)
        mine = projects.list_visible(uow, viewer.actor, PageRequest(limit=200, offset=0)).items
    context = {"errors": {}, "form": {}, "secret": None, **context}
    return render(
        request,
        viewer,
        "team/tokens.html",
        status=status,
        tokens=tokens,
        project_options=[(str(p.id), p.name) for p in mine],
        now=viewer.ctx.clock.now(),
        scopes=[s.value for s in TokenScope],
        **context,
    )


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, viewer: SignedIn) -> Response:
    return _page(request, viewer)


@router.post("/tokens", response_class=HTMLResponse)
async def create(request: Request, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    try:
        if form.get("scope") not in {s.value for s in TokenScope}:
            raise InvalidInput.on("scope", viewer.t.gettext("choose what the token may do"))
        ttl = as_int(form.get("ttl_days"))
        if ttl is None:
            raise InvalidInput.on("ttl_days", viewer.t.gettext("a number of days"))
        scope = TokenScope(form["scope"])
        project_id = as_int(form.get("project_id")) if scope is TokenScope.PROJECT else None
        with viewer.ctx.uow_factory(write=True) as uow:
            made = identity.create_token(
                uow,
                viewer.ctx.clock,
                viewer.actor,
                name=form.get("name", "") or "portal",
                ttl_days=ttl,
                scope=scope,
                project_id=project_id,
            )
    except DomainError as exc:
        return _page(request, viewer, exc.status, errors=field_errors(exc, FIELDS), form=form)
    return _page(request, viewer, 201, secret=made.secret, created=made.token)


@router.post("/tokens/{token_id}/revoke")
async def revoke(request: Request, token_id: int, viewer: SignedInChecked) -> Response:
    with viewer.ctx.uow_factory(write=True) as uow:
        identity.revoke_token(uow, viewer.ctx.clock, viewer.actor, token_id)
    session_cache(request).evict(token_id=token_id)
    return redirect(viewer, "/tokens", viewer.t.gettext("Token revoked."))
