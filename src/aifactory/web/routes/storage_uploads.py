"""The portal's side of a resumable upload into project storage, for ``static/upload.js``: the same protocol and
the same services as the API (``services.uploads``: create, chunks with ``Content-Range``, complete with the
sha256 the browser computed), on the portal's session and checked against its CSRF token (``X-CSRF-Token``).
Answers are small JSON objects; a refusal is ``{"detail": ..., "field": ...}`` with the service's status
(413 over the quota), so the page shows the service's own message."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ...domain.errors import DomainError, InvalidInput
from ...domain.storage import StoredFile, UploadSession
from ...services import uploads
from ..viewer import SignedInChecked, Viewer

router = APIRouter()
BASE = "/projects/{project_id:int}/data/uploads"


def chunk_limit(viewer: Viewer) -> int:
    """The largest chunk the portal takes in one PUT: the storage's chunk size, within the portal's body limit."""
    return min(viewer.ctx.storage.chunk_bytes, viewer.ctx.settings.max_body_bytes)


def _upload(viewer: Viewer, upload: UploadSession) -> dict[str, Any]:
    return {
        "id": upload.stored_id,
        "name": upload.name,
        "size": upload.size,
        "offset": upload.received,
        "complete": upload.complete,
        "max_chunk_bytes": chunk_limit(viewer),
        "url": f"/projects/{upload.project_id}/data/uploads/{upload.stored_id}",
    }


def _stored(stored: StoredFile) -> dict[str, Any]:
    return {"name": stored.name, "size": stored.size, "sha256": stored.sha256}


def _refused(exc: DomainError) -> JSONResponse:
    field = exc.errors[0].field if exc.errors else None
    return JSONResponse({"detail": str(exc), "field": field}, status_code=exc.status)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


@router.post(BASE)
async def create(request: Request, viewer: SignedInChecked, project_id: int) -> JSONResponse:
    body = await _json(request)
    name, size, sha256 = body.get("name"), body.get("size"), body.get("sha256")
    try:
        if not isinstance(size, int) or isinstance(size, bool):
            raise InvalidInput.on("size", "the file's size in bytes (a whole number)")
        upload, new = await run_in_threadpool(
            _create, viewer, project_id, name, size, sha256 if isinstance(sha256, str) else None
        )
    except DomainError as exc:
        return _refused(exc)
    return JSONResponse(_upload(viewer, upload), status_code=201 if new else 200)


def _create(viewer: Viewer, project_id: int, name: Any, size: int, sha256: str | None) -> tuple[UploadSession, bool]:
    ctx = viewer.ctx
    with ctx.uow_factory() as uow:
        return uploads.create(
            uow, ctx.clock, viewer.actor, ctx.storage, project_id, name=name, size=size, sha256=sha256
        )


async def _in_upload(viewer: Viewer, step: Callable[..., Any], project_id: int, upload_id: int, *args: Any) -> Any:
    """One step of an upload (``services.uploads.write_chunk`` or ``complete``) on a worker thread."""
    ctx = viewer.ctx
    return await run_in_threadpool(
        step, ctx.uow_factory, ctx.clock, viewer.actor, ctx.storage, project_id, upload_id, *args
    )


@router.put(BASE + "/{upload_id:int}")
async def put_chunk(request: Request, viewer: SignedInChecked, project_id: int, upload_id: int) -> JSONResponse:
    data = await request.body()  # bounded by the portal's body limit (chunk_limit)
    try:
        upload = await _in_upload(
            viewer, uploads.write_chunk, project_id, upload_id, request.headers.get("content-range"), data
        )
    except DomainError as exc:
        return _refused(exc)
    return JSONResponse(_upload(viewer, upload))


@router.post(BASE + "/{upload_id:int}/complete")
async def complete(request: Request, viewer: SignedInChecked, project_id: int, upload_id: int) -> JSONResponse:
    sha256 = (await _json(request)).get("sha256")
    try:
        stored = await _in_upload(
            viewer, uploads.complete, project_id, upload_id, sha256 if isinstance(sha256, str) else None
        )
    except DomainError as exc:
        return _refused(exc)
    return JSONResponse(_stored(stored), status_code=201)
