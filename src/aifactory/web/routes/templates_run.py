"""Running a catalog template from a project page: a form built from the template's parameter schema. A
parameter with ``"format": "dataset"`` is a picker of the project's datasets (``@slug``) and stored files (their
path), with an upload button (``static/upload.js``) that adds the new file and selects it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ...domain.catalog import CatalogKind
from ...domain.errors import DomainError, Forbidden
from ...domain.jobs.spec import parse_time_minutes
from ...services import catalog, project_data, projects
from ..forms import field_errors, read_form
from ..params_form import coerce, param_fields
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer
from .storage_uploads import chunk_limit

router = APIRouter()


def _load_synced(viewer: Viewer, project_id: int, name: str) -> tuple[Any, Any]:
    with viewer.ctx.uow_factory(write=False) as uow:
        project = projects.get(uow, viewer.actor, project_id)
        item = catalog.show(uow, viewer.actor, CatalogKind.TEMPLATE, name[:64]).item
    return project, item


def _load(request: Request, viewer: Viewer, project_id: int, name: str) -> tuple[Any, Any]:
    request.app.state.templates.ensure(viewer.ctx.uow_factory, viewer.ctx.clock)
    return _load_synced(viewer, project_id, name)


def _page(
    request: Request,
    viewer: Viewer,
    project: Any,
    item: Any,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    fields = param_fields(item.details.get("parameters", {}), viewer.lang)
    texts = item.details.get("texts", {})
    words = {"title": item.title, "summary": item.summary, **texts.get("en", {}), **texts.get(viewer.lang, {})}
    picker = _picker(viewer, project.id) if any(f.kind == "dataset" for f in fields) else None
    return render(
        request,
        viewer,
        "projects/template.html",
        status=status,
        project=project,
        tpl=item,
        words=words,
        fields=fields,
        values=values,
        errors=errors,
        resources=item.details.get("resources", {}),
        run_minutes=_minutes(item.details.get("resources", {}).get("time")),
        picker=picker,
        max_chunk=chunk_limit(viewer),
    )


def _minutes(time: Any) -> int | None:
    """A template's time limit in minutes (None: none, or not one the job spec reads)."""
    try:
        return parse_time_minutes(time) if time is not None else None
    except (ValueError, DomainError):
        return None


def _picker(viewer: Viewer, project_id: int) -> project_data.ProjectData | None:
    """What a dataset parameter offers: the project's datasets and stored files (None to an operator who is
    not a member: the parameter is then a text field)."""
    try:
        with viewer.ctx.uow_factory(write=False) as uow:
            return project_data.project_data(uow, viewer.actor, viewer.ctx.storage, project_id)
    except Forbidden:
        return None


@router.get("/projects/{project_id:int}/templates/{name}", response_class=HTMLResponse)
def template_form(request: Request, viewer: SignedIn, project_id: int, name: str) -> HTMLResponse:
    project, item = _load(request, viewer, project_id, name)
    return _page(request, viewer, project, item, {}, {})


def _run(viewer: Viewer, project_id: int, name: str, form: dict[str, str]) -> tuple[Any, Any, Any]:
    """On a worker thread: the template, its parameters from the form, and the job submitted."""
    project, item = _load_synced(viewer, project_id, name)
    params = coerce(param_fields(item.details.get("parameters", {})), form)
    ctx = viewer.ctx
    return (
        project,
        item,
        catalog.run_template(ctx.uow_factory, ctx.clock, viewer.actor, ctx.gateway, item.slug, params, project_id),
    )


@router.post("/projects/{project_id:int}/templates/{name}", response_class=HTMLResponse)
async def run_template(request: Request, viewer: SignedInChecked, project_id: int, name: str) -> Response:
    form = await read_form(request)
    try:
        _, item, job = await run_in_threadpool(_run, viewer, project_id, name, form)
    except DomainError as exc:
        if exc.status == 404:
            raise
        project, item = await run_in_threadpool(_load, request, viewer, project_id, name)
        values = {k: v for k, v in form.items() if k.startswith("params.")}
        return _page(request, viewer, project, item, values, field_errors(exc), status=exc.status)
    if viewer.ctx.reconciler is not None:
        viewer.ctx.reconciler.kick()
    return redirect(
        viewer,
        f"/jobs/{job.id}",
        viewer.t.gettext("Job %(id)s submitted from template %(name)s.", id=job.id, name=item.title),
    )
