"""A project's "Data" page: its stored files with their size and date and the quota in use, upload (drag and
drop or a file button, with progress: ``static/upload.js`` and ``routes.storage_uploads``), download (streamed,
with Range), delete (after a confirmation, CSRF-protected), and registering a stored file or folder as a
catalog dataset, whose page shows its schema preview. Every rule is the services' (``services.storage``,
``services.datasets``, ``services.project_data``)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ...api.ranged import ranged
from ...domain.catalog import CatalogKind
from ...domain.errors import DomainError
from ...domain.storage import basename
from ...services import catalog, datasets, project_data, projects, storage
from ..forms import field_errors, read_form
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer
from .storage_uploads import chunk_limit

router = APIRouter()
DATA = "/projects/{project_id:int}/data"
FIELDS = {"path", "slug", "title", "licence", "summary"}


def data_url(project_id: int) -> str:
    return f"/projects/{project_id}/data"


def _overview(viewer: Viewer, project_id: int) -> dict[str, Any]:
    ctx = viewer.ctx
    with ctx.uow_factory(write=False) as uow:
        project = projects.get(uow, viewer.actor, project_id)
        found = project_data.project_data(uow, viewer.actor, ctx.storage, project_id)
    return {"project": project, "data": found, "max_chunk": chunk_limit(viewer)}


@router.get(DATA, response_class=HTMLResponse)
def data_page(request: Request, viewer: SignedIn, project_id: int) -> HTMLResponse:
    return render(request, viewer, "storage/page.html", **_overview(viewer, project_id))


@router.get(DATA + "/files/{path:path}")
def download(request: Request, viewer: SignedIn, project_id: int, path: str) -> Response:
    ctx = viewer.ctx
    with ctx.uow_factory(write=False) as uow:
        opened = storage.open_file(uow, viewer.actor, ctx.storage, project_id, path)
    return ranged(opened, request.headers.get("range"), request.headers.get("if-range"))


def _project(viewer: Viewer, project_id: int) -> Any:
    with viewer.ctx.uow_factory(write=False) as uow:
        return projects.get(uow, viewer.actor, project_id)


@router.get(DATA + "/delete", response_class=HTMLResponse)
def confirm_delete(request: Request, viewer: SignedIn, project_id: int, path: str = "") -> HTMLResponse:
    project = _project(viewer, project_id)
    return render(request, viewer, "storage/delete.html", project=project, target=path[:1100])


@router.post(DATA + "/delete")
async def delete(request: Request, viewer: SignedInChecked, project_id: int) -> Response:
    form = await read_form(request)
    path = form.get("path", "")
    ctx = viewer.ctx

    def run() -> int:
        with ctx.uow_factory() as uow:
            gone = storage.delete(uow, ctx.clock, viewer.actor, ctx.storage, project_id, path, recursive=True)
        return len(gone)

    count = await run_in_threadpool(run)
    text = viewer.t.gettext("Deleted %(name)s (%(count)s file(s)).", name=path, count=count)
    return redirect(viewer, data_url(project_id), text)


def default_slug(path: str) -> str:
    stem = basename(path.rstrip("/")).rsplit(".", 1)[0].lower()
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:64] or "dataset"


def _register_page(
    request: Request, viewer: Viewer, project_id: int, values: dict[str, str], errors: dict[str, str], status: int
) -> HTMLResponse:
    project = _project(viewer, project_id)
    return render(
        request, viewer, "storage/register.html", status=status, project=project, values=values, errors=errors
    )


@router.get(DATA + "/register", response_class=HTMLResponse)
def register_form(request: Request, viewer: SignedIn, project_id: int, path: str = "") -> HTMLResponse:
    path = path[:1100]
    values = {"path": path, "slug": default_slug(path), "title": basename(path.rstrip("/")) if path else ""}
    return _register_page(request, viewer, project_id, values, {}, 200)


@router.post(DATA + "/register", response_class=HTMLResponse)
async def register(request: Request, viewer: SignedInChecked, project_id: int) -> Response:
    form = await read_form(request)
    values = {k: form.get(k, "").strip() for k in FIELDS}
    ctx = viewer.ctx

    def run() -> str:
        entry = datasets.register(
            ctx.uow_factory,
            ctx.clock,
            viewer.actor,
            ctx.storage,
            project_id,
            path=values["path"],
            licence=values["licence"] or None,
            slug=values["slug"],
            title=values["title"],
            summary=values["summary"],
        )
        return entry.item.slug

    try:
        slug = await run_in_threadpool(run)
    except DomainError as exc:  # shown on the form (a project the viewer may not see: its 404 page)
        errors = field_errors(exc, FIELDS)
        return _register_page(request, viewer, project_id, values, errors, exc.status)
    text = viewer.t.gettext("Registered %(name)s as dataset %(slug)s.", name=values["path"], slug=slug)
    return redirect(viewer, f"{data_url(project_id)}/datasets/{quote(slug)}", text)


@router.get(DATA + "/datasets/{slug}", response_class=HTMLResponse)
def dataset_page(request: Request, viewer: SignedIn, project_id: int, slug: str) -> HTMLResponse:
    with viewer.ctx.uow_factory(write=False) as uow:
        project = projects.get(uow, viewer.actor, project_id)
        entry = catalog.show(uow, viewer.actor, CatalogKind.DATASET, slug[:64])
    item = entry.item
    preview = item.details.get("preview") if isinstance(item.details.get("preview"), dict) else None
    return render(
        request,
        viewer,
        "storage/dataset.html",
        project=project,
        item=item,
        preview=preview,
        provenance=item.details.get("provenance") or {},
    )
