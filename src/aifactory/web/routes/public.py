"""What anyone sees: the factory's offer, its resources, open calls and success stories."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...domain.access import PageRequest
from ...domain.catalog import CatalogKind
from ...services import calls, catalog
from ..render import render
from ..viewer import CurrentViewer, Viewer

router = APIRouter()


def _actor_or_none(viewer: Viewer):  # type: ignore[no-untyped-def]
    return viewer.actor if viewer.user is not None else None


def _offer(viewer: Viewer) -> dict:  # type: ignore[type-arg]
    ctx = viewer.ctx
    today = ctx.clock.now().date()
    with ctx.uow_factory(write=False) as uow:
        open_calls = calls.list_calls(uow, PageRequest(limit=50, offset=0), open_on=today).items
        resources = [r for s in uow.sites.list_all() for r in s.resources]
        stories = catalog.search(
            uow, _actor_or_none(viewer), PageRequest(limit=6, offset=0), kind=CatalogKind.STORY
        ).items
    return {"open_calls": open_calls, "resources": resources, "stories": stories}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, viewer: CurrentViewer) -> HTMLResponse:
    return render(request, viewer, "home.html", **_offer(viewer))


@router.get("/calls", response_class=HTMLResponse)
def call_list(request: Request, viewer: CurrentViewer) -> HTMLResponse:
    today = viewer.ctx.clock.now().date()
    with viewer.ctx.uow_factory(write=False) as uow:
        items = calls.list_calls(uow, PageRequest(limit=200, offset=0)).items
    return render(request, viewer, "calls.html", calls=items, today=today)


@router.get("/calls/{call_id:int}", response_class=HTMLResponse)
def call_detail(request: Request, viewer: CurrentViewer, call_id: int) -> HTMLResponse:
    with viewer.ctx.uow_factory(write=False) as uow:
        call = calls.get_call(uow, call_id)
        resources = [r for r in (uow.resources.get(i) for i in call.resource_ids) if r is not None]
    return render(
        request,
        viewer,
        "call.html",
        call=call,
        resources=resources,
        is_open=call.is_open(viewer.ctx.clock.now().date()),
    )


@router.get("/stories", response_class=HTMLResponse)
def stories(request: Request, viewer: CurrentViewer) -> HTMLResponse:
    with viewer.ctx.uow_factory(write=False) as uow:
        items = catalog.search(
            uow, _actor_or_none(viewer), PageRequest(limit=100, offset=0), kind=CatalogKind.STORY
        ).items
    return render(request, viewer, "stories.html", stories=items)


@router.get("/stories/{slug}", response_class=HTMLResponse)
def story(request: Request, viewer: CurrentViewer, slug: str) -> HTMLResponse:
    with viewer.ctx.uow_factory(write=False) as uow:
        item = catalog.visible_item(uow, _actor_or_none(viewer), CatalogKind.STORY, slug[:64])
    return render(request, viewer, "story.html", story=item)
