"""What anyone sees: the factory's offer, its resources, open calls and success stories."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...domain.access import PageRequest
from ...domain.calls import Call
from ...domain.catalog import CatalogKind
from ...services import call_guide, calls, catalog, jobs, projects, proposals
from ..proposal_plan import question_view
from ..render import render
from ..viewer import CurrentViewer, Viewer

router = APIRouter()
HOME_ROWS = 10  # of each kind on a signed-in user's home page


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


def _mine(viewer: Viewer) -> dict:  # type: ignore[type-arg]
    """A signed-in user's own work: their organization's proposals, their projects and their latest jobs (an
    operator: the newest of all; the operator pages have the queues)."""
    ctx, first = viewer.ctx, PageRequest(limit=HOME_ROWS, offset=0)
    today = ctx.clock.now().date()
    with ctx.uow_factory(write=False) as uow:
        own = proposals.list_visible(uow, viewer.actor, first, order="created").items
        call_titles = {
            c.id: c.text_in("title", viewer.lang)
            for c in (uow.calls.get(i) for i in {p.call_id for p in own})
            if c is not None
        }
        return {
            "proposals": [(p, call_titles.get(p.call_id, "")) for p in own],
            "projects": [(p, list(p.allocations)) for p in projects.list_visible(uow, viewer.actor, first).items],
            "jobs": jobs.list_jobs(uow, viewer.actor, first, with_events=False).items,
            "open_calls": calls.list_calls(uow, PageRequest(limit=HOME_ROWS, offset=0), open_on=today).items,
        }


@router.get("/", response_class=HTMLResponse)
def home(request: Request, viewer: CurrentViewer) -> HTMLResponse:
    """The offer to a visitor; a signed-in user's proposals, projects and jobs to them."""
    if viewer.user is not None:
        return render(request, viewer, "dashboard.html", **_mine(viewer))
    return render(request, viewer, "home.html", **_offer(viewer))


@router.get("/calls", response_class=HTMLResponse)
def call_list(request: Request, viewer: CurrentViewer) -> HTMLResponse:
    today = viewer.ctx.clock.now().date()
    with viewer.ctx.uow_factory(write=False) as uow:
        items = calls.list_calls(uow, PageRequest(limit=200, offset=0)).items
    return render(request, viewer, "calls.html", calls=items, today=today)


def asked(call: Call, lang: str) -> list[dict]:  # type: ignore[type-arg]
    """What the call asks applicants beyond the standard fields, in ``lang`` (web.proposal_plan.question_view)."""
    return [question_view(q, lang) for q in call.questions]


@router.get("/calls/{call_id:int}", response_class=HTMLResponse)
def call_detail(request: Request, viewer: CurrentViewer, call_id: int) -> HTMLResponse:
    request.app.state.templates.ensure(viewer.ctx.uow_factory, viewer.ctx.clock)  # the sizing help reads them
    today = viewer.ctx.clock.now().date()
    with viewer.ctx.uow_factory(write=False) as uow:
        call = calls.get_call(uow, call_id)
        resources = [r for r in (uow.resources.get(i) for i in call.resource_ids) if r is not None]
        guide = call_guide.guide(uow, _actor_or_none(viewer), call, today)
    return render(
        request,
        viewer,
        "call.html",
        call=call,
        resources=resources,
        is_open=call.is_open(today),
        guide=guide,
        asked=asked(call, viewer.t.lang),
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
