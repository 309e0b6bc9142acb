"""Project pages: members, allocation burn-down, the jobs table (live through htmx polling), and submitting a
job from a spec or from a catalog template's form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ...domain.access import PageRequest
from ...domain.catalog import CatalogKind
from ...domain.errors import DomainError, InvalidInput
from ...domain.jobs.document import load_yaml_or_json
from ...domain.projects import Allocation, Project
from ...services import catalog, jobs, projects, reports
from ..cache import app_cache
from ..charts import PALETTE
from ..charts_figure import Chart
from ..charts_time import Steps, step_time_chart
from ..charts_units import amount_text, unit_for_all, unit_label
from ..forms import field_errors, read_form
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer

router = APIRouter()
JOBS_PER_PAGE = 25


@router.get("/projects", response_class=HTMLResponse)
def project_list(request: Request, viewer: SignedIn) -> HTMLResponse:
    with viewer.ctx.uow_factory(write=False) as uow:
        items = projects.list_visible(uow, viewer.actor, PageRequest(limit=200, offset=0)).items
        rows = [(p, list(p.allocations)) for p in items]
    return render(request, viewer, "projects/list.html", rows=rows)


@dataclass(frozen=True)
class MemberRow:
    name: str
    email: str
    role: str


def _members(uow: Any, project: Project) -> list[MemberRow]:
    users = {u.id: u for u in (uow.users.get(m.user_id) for m in project.members) if u is not None}
    return [
        MemberRow(users[m.user_id].name, users[m.user_id].email, m.role.value)
        for m in project.members
        if m.user_id in users
    ]


def _burn_chart(viewer: Viewer, bd: reports.BurnDown, alloc: Allocation) -> Chart:
    """The burn-down as staircases on the allocation's own time axis (start to end): the grant across the
    whole period, what was used and reserved up to today; the same figures as a table."""
    t, lang = viewer.t.gettext, viewer.lang
    today = viewer.ctx.clock.now().date()
    days = [(date.fromisoformat(p.at), p) for p in bd.points]
    unit = unit_for_all([v for _, p in days for v in (p.granted_gpu_hours, p.charged_gpu_hours)])
    k = unit.per_hour
    names = [t("granted"), t("used"), t("reserved by open jobs")]
    series = [
        Steps(names[0], [(d, p.granted_gpu_hours * k) for d, p in days], alloc.end_date),
        Steps(names[1], [(d, p.charged_gpu_hours * k) for d, p in days], today),
        Steps(names[2], [(d, p.reserved_gpu_hours * k) for d, p in days], today),
    ]
    title = t("GPU-hours over time")
    svg = step_time_chart(
        series,
        start=alloc.start_date,
        end=alloc.end_date,
        id=f"burn-{bd.allocation_id}",
        title=title,
        unit=unit_label(unit, t),
        today=(today, t("today")),
        min_top=unit.floor,
        empty=t("Nothing granted or used yet."),
        lang=viewer.lang,
    )
    rows = [
        [
            d.isoformat(),
            *(amount_text(v, t, lang) for v in (p.granted_gpu_hours, p.charged_gpu_hours, p.reserved_gpu_hours)),
        ]
        for d, p in days
    ]
    keys = [(i % len(PALETTE), name) for i, name in enumerate(names)] if days else []
    return Chart(f"burn-{bd.allocation_id}", title, svg, keys, [t("Day"), *names], rows)


def _burn_view(uow: Any, viewer: Viewer, alloc: Allocation) -> tuple[reports.BurnDown, Chart]:
    assert alloc.id is not None  # a project's allocations are stored ones
    bd = reports.burn_down(uow, viewer.actor, alloc.id)
    return bd, _burn_chart(viewer, bd, alloc)


def _jobs_page(uow: Any, viewer: Viewer, project_id: int, offset: int) -> tuple[list[Any], int]:
    page = jobs.job_rows(uow, viewer.actor, project_id, PageRequest(limit=JOBS_PER_PAGE, offset=offset))
    return list(page.items), page.total


@router.get("/projects/{project_id:int}", response_class=HTMLResponse)
def project_page(request: Request, viewer: SignedIn, project_id: int) -> HTMLResponse:
    cache = app_cache(request, "burn-down")
    today = viewer.ctx.clock.now().date()
    with viewer.ctx.uow_factory(write=False) as uow:
        project = projects.get(uow, viewer.actor, project_id)
        members = _members(uow, project)
        allocations: list[Allocation] = list(project.allocations)
        # the burn-down and its chart change only with the allocation's running sums (and the day)
        charts = [
            (
                a,
                *cache.get_or_make(
                    (a.id, a.granted_seconds, a.charged_seconds, a.reserved_seconds, today, viewer.lang),
                    partial(_burn_view, uow, viewer, a),
                ),
            )
            for a in allocations
        ]
        resources = {a.resource_id: uow.resources.get(a.resource_id).name for a in allocations}
        job_rows, total = _jobs_page(uow, viewer, project_id, 0)
    return render(
        request,
        viewer,
        "projects/page.html",
        project=project,
        project_id=project.id,
        members=members,
        charts=charts,
        resources=resources,
        jobs=job_rows,
        total=total,
        offset=0,
        per_page=JOBS_PER_PAGE,
    )


@router.get("/projects/{project_id:int}/jobs", response_class=HTMLResponse)
def jobs_fragment(request: Request, viewer: SignedIn, project_id: int, offset: int = 0) -> HTMLResponse:
    """The jobs table's body: polled by htmx while the page is open (faster while jobs are open)."""
    offset = max(0, min(offset, 10_000_000))
    with viewer.ctx.uow_factory(write=False) as uow:
        job_rows, total = _jobs_page(uow, viewer, project_id, offset)
    return render(
        request,
        viewer,
        "projects/_jobs.html",
        project_id=project_id,
        jobs=job_rows,
        total=total,
        offset=offset,
        per_page=JOBS_PER_PAGE,
    )


# ------------------------------------------------------------------ submitting


def _templates(request: Request, viewer: Viewer) -> list[Any]:
    request.app.state.templates.ensure(viewer.ctx.uow_factory, viewer.ctx.clock)
    with viewer.ctx.uow_factory(write=False) as uow:
        return list(
            catalog.search(uow, viewer.actor, PageRequest(limit=100, offset=0), kind=CatalogKind.TEMPLATE).items
        )


@router.get("/projects/{project_id:int}/submit", response_class=HTMLResponse)
def submit_page(request: Request, viewer: SignedIn, project_id: int) -> HTMLResponse:
    with viewer.ctx.uow_factory(write=False) as uow:
        project = projects.get(uow, viewer.actor, project_id)
    return render(
        request,
        viewer,
        "projects/submit.html",
        project=project,
        templates=_templates(request, viewer),
        spec="",
        errors={},
    )


def _spec_document(text: str, project_id: int) -> dict[str, Any]:
    doc = load_yaml_or_json(text)  # bounded like the API's (size, depth, no YAML aliases)
    if not isinstance(doc, dict):
        raise InvalidInput.on("spec", "a job spec is a mapping (name, command, resources, …)")
    if "project" in doc and str(doc["project"]) != str(project_id):
        raise InvalidInput.on("project", "the spec names another project than this page's")
    return {**doc, "project": project_id}


def _submit(viewer: Viewer, project_id: int, text: str) -> Any:
    """Parse and submit on a worker thread (the caller awaits it): the event loop never parses or waits."""
    ctx = viewer.ctx
    with ctx.uow_factory(write=False) as uow:
        projects.get(uow, viewer.actor, project_id)  # 404 for outsiders before anything is parsed
    return jobs.submit_job(ctx.uow_factory, ctx.clock, viewer.actor, ctx.gateway, _spec_document(text, project_id))


@router.post("/projects/{project_id:int}/submit", response_class=HTMLResponse)
async def submit_spec(request: Request, viewer: SignedInChecked, project_id: int) -> Response:
    form = await read_form(request)
    ctx = viewer.ctx
    try:
        job = await run_in_threadpool(_submit, viewer, project_id, form.get("spec", ""))
    except DomainError as exc:
        if exc.status == 404:
            raise
        with ctx.uow_factory(write=False) as uow:
            project = projects.get(uow, viewer.actor, project_id)
        return render(
            request,
            viewer,
            "projects/submit.html",
            status=exc.status,
            project=project,
            templates=_templates(request, viewer),
            spec=form.get("spec", ""),
            errors=field_errors(exc),
            problem=str(exc),
        )
    if ctx.reconciler is not None:
        ctx.reconciler.kick()
    return redirect(viewer, f"/jobs/{job.id}", viewer.t.gettext("Job %(id)s submitted.", id=job.id))
