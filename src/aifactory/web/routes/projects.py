"""Project pages: members, burn-down, jobs with live state, job detail with its log, submission."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...domain.access import PageRequest
from ...services import projects
from ..render import render
from ..viewer import SignedIn

router = APIRouter()


@router.get("/projects", response_class=HTMLResponse)
def project_list(request: Request, viewer: SignedIn) -> HTMLResponse:
    with viewer.ctx.uow_factory(write=False) as uow:
        items = projects.list_visible(uow, viewer.actor, PageRequest(limit=200, offset=0)).items
        rows = [(p, list(p.allocations)) for p in items]
    return render(request, viewer, "projects/list.html", rows=rows)
