"""Jobs: submit (JSON or YAML), list, show, cancel, logs (a chunk by offset, or followed live as
server-sent events) and artifacts. The spec's JSON Schema is published at ``/jobs/schema``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from ...domain.errors import InvalidInput
from ...domain.jobs.document import YAML_TYPES, load_document
from ...domain.jobs.spec import JOB_SPEC_SCHEMA
from ...domain.jobs.states import JobState
from ...services import job_outputs, job_saves, jobs
from ..deps import Ctx, CurrentActor, IdPath, IdQuery, Paging, Uow
from ..downloads import download
from ..logstream import follow
from ..schemas.common import Page, page_of
from ..schemas.jobs import ArtifactOut, JobOut, JobSaveIn
from ..schemas.storage import StoredFileOut

router = APIRouter(tags=["jobs"])
_SPEC_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "description": "a job spec (see GET /jobs/schema)"}},
            "application/yaml": {"schema": {"type": "string", "description": "the same spec as YAML"}},
        },
    }
}
StreamQ = Annotated[Literal["stdout", "stderr"], Query(description="which stream")]
TaskQ = Annotated[int, Query(ge=0, le=99_999, description="array task index (0 for single jobs)")]
OffsetQ = Annotated[int, Query(ge=0, le=1 << 50, description="byte offset to start from")]


async def _spec_document(request: Request) -> Any:
    """The spec's data, parsed on a worker thread (bounded in size, depth and values: see
    ``domain.jobs.document``), so a large or hostile text never holds up the event loop."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind not in (*YAML_TYPES, "application/json", ""):
        raise InvalidInput.on("content-type", f"{kind!r} is not accepted; send application/json or application/yaml")
    raw = await request.body()
    return await run_in_threadpool(load_document, raw, kind)


@router.get("/jobs/schema", summary="The job spec's JSON Schema")
def job_schema() -> dict[str, Any]:
    return JOB_SPEC_SCHEMA


@router.post(
    "/jobs",
    status_code=status.HTTP_201_CREATED,
    response_model=JobOut,
    openapi_extra=_SPEC_BODY,
    summary="Submit a job (its project's members; replays of an idempotency key answer 200)",
)
async def submit(request: Request, response: Response, actor: CurrentActor, ctx: Ctx) -> JobOut:
    document = await _spec_document(request)
    submission = await run_in_threadpool(
        jobs.submit_job_or_existing, ctx.uow_factory, ctx.clock, actor, ctx.gateway, document
    )
    if not submission.created:
        response.status_code = status.HTTP_200_OK
    if ctx.reconciler is not None:
        ctx.reconciler.kick()
    return JobOut.model_validate(submission.job)


@router.get("/jobs", response_model=Page[JobOut], summary="Jobs of your projects (operators: all), newest first")
def list_jobs(
    actor: CurrentActor,
    uow: Uow,
    page: Paging,
    project_id: IdQuery = None,
    state: JobState | None = None,
    mine: Annotated[bool, Query(description="only the jobs you submitted")] = False,
) -> dict[str, Any]:
    found = jobs.list_jobs(uow, actor, page, project_id=project_id, state=state, mine=mine)
    return page_of(found, JobOut.model_validate)


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: IdPath, actor: CurrentActor, uow: Uow) -> JobOut:
    return JobOut.model_validate(jobs.get_job(uow, actor, job_id))


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobOut,
    summary="Cancel (the submitter, the project's PI or an operator); a finished job stays as it is",
    responses={202: {"model": JobOut, "description": "the cancel is stored and carried out once the scheduler can"}},
)
def cancel(job_id: IdPath, actor: CurrentActor, ctx: Ctx, response: Response) -> JobOut:
    job = jobs.cancel_job(ctx.uow_factory, ctx.clock, actor, ctx.gateway, job_id)
    if job.cancel_pending:  # the scheduler could not take it now: the reconciler carries it out
        response.status_code = status.HTTP_202_ACCEPTED
        ctx.kick_reconciler()
    return JobOut.model_validate(job)


@router.get(
    "/jobs/{job_id}/logs",
    response_class=Response,
    summary="A chunk of a log, from a byte offset",
    responses={
        200: {
            "content": {"text/plain": {}},
            "description": "X-Log-Offset: where to go on; X-Log-Complete: nothing more comes",
        }
    },
)
def logs(
    job_id: IdPath,
    actor: CurrentActor,
    uow: Uow,
    ctx: Ctx,
    stream: StreamQ = "stdout",
    task: TaskQ = 0,
    offset: OffsetQ = 0,
    limit: Annotated[int, Query(ge=1, le=8 << 20)] = 1 << 20,
) -> Response:
    chunk = job_outputs.log_source(uow, actor, ctx.gateway, job_id, stream, task).read(offset, limit)
    return Response(
        chunk.data,
        media_type="text/plain; charset=utf-8",
        headers={"X-Log-Offset": str(chunk.offset), "X-Log-Complete": str(chunk.complete).lower()},
    )


@router.get(
    "/jobs/{job_id}/logs/stream",
    response_class=StreamingResponse,
    summary="Follow a log live (server-sent events; resume with Last-Event-ID)",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "`log` events (id = next offset, data = {text, offset}), then `end`",
        }
    },
)
async def stream_logs(
    job_id: IdPath,
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    stream: StreamQ = "stdout",
    task: TaskQ = 0,
    offset: OffsetQ = 0,
) -> StreamingResponse:
    return await follow(request, ctx, actor, job_id, stream, task, offset)


@router.get(
    "/jobs/{job_id}/artifacts",
    response_model=list[ArtifactOut],
    summary="The files the spec's outputs name (relative to the job's working directory)",
)
def artifacts(job_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx, checksums: bool = False) -> list[ArtifactOut]:
    found = job_outputs.list_artifacts(uow, actor, ctx.gateway, job_id, checksums=checksums)
    return [ArtifactOut.model_validate(a) for a in found]


@router.get(
    "/jobs/{job_id}/artifacts/{path:path}",
    response_class=StreamingResponse,
    summary="Download an artifact",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def artifact(
    job_id: IdPath, path: Annotated[str, "relative path"], actor: CurrentActor, uow: Uow, ctx: Ctx
) -> StreamingResponse:
    return download(job_outputs.open_artifact(uow, actor, ctx.gateway, job_id, path))


@router.post(
    "/jobs/{job_id}/artifacts/save",
    status_code=status.HTTP_201_CREATED,
    response_model=StoredFileOut,
    summary="Save a completed job's artifact into its project's storage (quota checked: 413 when over)",
)
def save_artifact(job_id: IdPath, body: JobSaveIn, actor: CurrentActor, ctx: Ctx) -> StoredFileOut:
    stored = job_saves.save_output(
        ctx.uow_factory, ctx.clock, actor, ctx.gateway, ctx.storage, job_id, path=body.path, to=body.to
    )
    return StoredFileOut.model_validate(stored)
