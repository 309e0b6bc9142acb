"""A job's page: state and history, the log followed live (htmx polls for what was written since the last
offset), cancel, what the job was charged, and its artifacts: downloaded, and shown inline where they can be
(an HTML report in a sandboxed frame, images, the first rows of tables; see ``services.artifact_views``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ...api.downloads import download, view
from ...domain.errors import InvalidInput
from ...domain.jobs.spec import parse_spec
from ...domain.jobs.states import JobState
from ...services import artifact_views, job_outputs, jobs, ledger
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer

router = APIRouter()
TAIL_BYTES = 64 * 1024  # the first view shows at most this much of the end of the log
CHUNK_BYTES = 256 * 1024  # one poll brings at most this much


def _stream(value: str) -> Any:
    if value not in ("stdout", "stderr"):
        raise InvalidInput.on("stream", "must be stdout or stderr")
    return value


def _job_view(viewer: Viewer, job_id: int) -> dict[str, Any]:
    ctx = viewer.ctx
    with ctx.uow_factory(write=False) as uow:
        job = jobs.get_job(uow, viewer.actor, job_id)
        project = uow.projects.get(job.project_id)
        events = list(job.events)
        submitter = uow.users.get(job.submitted_by)
        artifacts = job_outputs.list_artifacts(uow, viewer.actor, ctx.gateway, job_id) if job.terminal else []
        may_cancel = not job.terminal and jobs.may_cancel(viewer.actor, job, project)
        charge = ledger.charge_of_job(uow, job)
        resource = uow.resources.get(job.resource_id)
    spec = parse_spec(job.spec)
    return {
        "job": job,
        "project": project,
        "events": events,
        "submitter": submitter,
        "views": artifact_views.artifact_views(ctx.gateway, job, artifacts),
        "may_cancel": may_cancel,
        "spec": spec,
        "charge": charge,
        "resource": resource,
    }


def _tail(viewer: Viewer, job_id: int, stream: str) -> tuple[str, int, bool]:
    """The end of the log so far (a whole log when short), the offset after it, and whether it is complete."""
    with viewer.ctx.uow_factory(write=False) as uow:
        source = job_outputs.log_source(uow, viewer.actor, viewer.ctx.gateway, job_id, _stream(stream), 0)
    chunk = source.tail(TAIL_BYTES)
    return chunk.data.decode("utf-8", "replace"), chunk.offset, chunk.complete


@router.get("/jobs/{job_id:int}", response_class=HTMLResponse)
def job_page(request: Request, viewer: SignedIn, job_id: int, stream: str = "stdout") -> HTMLResponse:
    view = _job_view(viewer, job_id)
    text, offset, complete = _tail(viewer, job_id, stream)
    # the log may be over before the reconciler has stored the job's end: keep following until both are
    complete = complete and view["job"].terminal
    return render(
        request, viewer, "jobs/page.html", **view, stream=stream, log_text=text, offset=offset, complete=complete
    )


@router.get("/jobs/{job_id:int}/log", response_class=HTMLResponse)
def log_fragment(
    request: Request, viewer: SignedIn, job_id: int, offset: int = 0, stream: str = "stdout"
) -> HTMLResponse:
    """What was written after ``offset`` (appended to the page's log), the job's state, and the next poller."""
    if not 0 <= offset <= 1 << 40:
        raise InvalidInput.on("offset", "must be between 0 and 2^40")
    ctx = viewer.ctx
    with ctx.uow_factory(write=False) as uow:
        job = jobs.get_job(uow, viewer.actor, job_id)
        source = job_outputs.log_source(uow, viewer.actor, ctx.gateway, job_id, _stream(stream), 0)
    chunk = source.read(offset, limit=CHUNK_BYTES)
    complete = chunk.complete and job.terminal
    artifacts: list[job_outputs.Artifact] = []
    if complete:  # the last poll (the poller stops with it) brings the artifacts, listed once
        with ctx.uow_factory(write=False) as uow:
            artifacts = job_outputs.list_artifacts(uow, viewer.actor, ctx.gateway, job_id)
    return render(
        request,
        viewer,
        "jobs/_log.html",
        job=job,
        stream=stream,
        text=chunk.data.decode("utf-8", "replace"),
        offset=chunk.offset,
        complete=complete,
        views=artifact_views.artifact_views(ctx.gateway, job, artifacts),
    )


@router.post("/jobs/{job_id:int}/cancel")
async def cancel(request: Request, viewer: SignedInChecked, job_id: int) -> Response:
    ctx = viewer.ctx  # scancel and the database on a worker thread, never on the event loop
    job = await run_in_threadpool(jobs.cancel_job, ctx.uow_factory, ctx.clock, viewer.actor, ctx.gateway, job_id)
    if job.state is JobState.CANCELLED or job.terminal:
        message = viewer.t.gettext("Job %(id)s cancelled.", id=job.id)
    else:  # the scheduler did not confirm yet (e.g. it is down): the factory keeps trying
        message = viewer.t.gettext(
            "Cancel of job %(id)s requested; it stops as soon as the scheduler confirms.", id=job.id
        )
    return redirect(viewer, f"/jobs/{job.id}", message, htmx=bool(request.headers.get("hx-request")))


@router.get("/jobs/{job_id:int}/artifacts/{path:path}")
def artifact(viewer: SignedIn, job_id: int, path: str) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        opened = job_outputs.open_artifact(uow, viewer.actor, viewer.ctx.gateway, job_id, path[:1000])
    return download(opened)  # always a download: a job's own HTML must never run on the portal's origin


@router.get("/jobs/{job_id:int}/view/{path:path}")
def view_artifact(viewer: SignedIn, job_id: int, path: str) -> Response:
    """An HTML report (for the page's sandboxed frame) or an image, served under ``api.downloads.VIEW_CSP``:
    even opened on its own it runs no script and has an origin of its own, never the portal's."""
    with viewer.ctx.uow_factory(write=False) as uow:
        opened, preview = artifact_views.open_viewable(uow, viewer.actor, viewer.ctx.gateway, job_id, path[:1000])
    return view(opened, preview.media_type)


@router.get("/jobs/{job_id:int}/charge", response_class=HTMLResponse)
def charge_fragment(request: Request, viewer: SignedIn, job_id: int) -> HTMLResponse:
    """What the job holds or was charged; polled by the page until the job is settled."""
    with viewer.ctx.uow_factory(write=False) as uow:
        job = jobs.get_job(uow, viewer.actor, job_id)
        charge = ledger.charge_of_job(uow, job)
        resource = uow.resources.get(job.resource_id)
    return render(request, viewer, "jobs/_charge.html", job=job, charge=charge, resource=resource)
