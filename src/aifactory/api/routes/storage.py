"""Project storage: resumable uploads (create, chunks with Content-Range, offset, complete, cancel), the
project's files (list with usage, download with Range, delete), its quota (operators), and registering a stored
file or folder as a catalog dataset. Routes parse and shape; ``services.storage``, ``services.uploads`` and
``services.datasets`` decide."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from ...services import datasets, storage, uploads
from ..deps import Ctx, CurrentActor, IdPath, Paging, Uow
from ..ranged import ranged
from ..schemas.catalog import CatalogEntryOut, entry_out
from ..schemas.common import page_of
from ..schemas.storage import (
    CompleteIn,
    DatasetIn,
    QuotaIn,
    StorageFilesOut,
    StoredFileOut,
    UploadIn,
    UploadOut,
    UsageOut,
)

router = APIRouter(tags=["project storage"])
API = "/api/v1"
CHUNK_PATH = re.compile(r"/api/v1/projects/[0-9]+/storage/uploads/[0-9]+")  # PUT bodies up to a chunk's size
FilePath = Annotated[str, Path(max_length=1100, description="the stored file's name (a relative path)")]
UPLOADS = "/projects/{project_id}/storage/uploads"
_CHUNK_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    "parameters": [
        {
            "name": "Content-Range",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "example": "bytes 0-1048575/5000000"},
            "description": "the chunk's bytes: START-END (inclusive) of TOTAL (the upload's size)",
        }
    ],
}


@router.get(
    "/projects/{project_id}/storage/files",
    response_model=StorageFilesOut,
    summary="The project's stored files (by name) and its usage against its quota",
)
def list_files(
    project_id: IdPath,
    actor: CurrentActor,
    uow: Uow,
    ctx: Ctx,
    page: Paging,
    prefix: Annotated[str | None, Query(max_length=1024, description="only names that start with this")] = None,
) -> dict[str, Any]:
    found, state = storage.list_files(uow, actor, ctx.storage, project_id, page, prefix)
    return page_of(found, StoredFileOut.model_validate) | {"usage": UsageOut.of(state)}


@router.get(
    "/projects/{project_id}/storage/files/{path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, 206: {"description": "the Range asked for"}},
    summary="Download a stored file (Range and If-Range supported; ETag is its sha256)",
)
def download(project_id: IdPath, path: FilePath, request: Request, actor: CurrentActor, uow: Uow, ctx: Ctx) -> Any:
    opened = storage.open_file(uow, actor, ctx.storage, project_id, path)
    return ranged(opened, request.headers.get("range"), request.headers.get("if-range"))


@router.delete(
    "/projects/{project_id}/storage/files/{path:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a stored file (or, with recursive=true, a folder)",
)
def delete(
    project_id: IdPath,
    path: FilePath,
    actor: CurrentActor,
    uow: Uow,
    ctx: Ctx,
    recursive: Annotated[bool, Query(description="a folder: every file in it")] = False,
) -> None:
    storage.delete(uow, ctx.clock, actor, ctx.storage, project_id, path, recursive=recursive)


@router.put(
    "/projects/{project_id}/storage/quota",
    response_model=UsageOut,
    summary="Set the project's storage quota (operators; null: the site's default)",
)
def set_quota(project_id: IdPath, body: QuotaIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> UsageOut:
    state = storage.set_quota(
        uow, ctx.clock, actor, ctx.storage, project_id, max_bytes=body.max_bytes, max_files=body.max_files
    )
    return UsageOut.of(state)


@router.post(
    UPLOADS,
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    summary="Start an upload (201), or resume yours of the same name, size and sha256 (200)",
)
def create_upload(
    project_id: IdPath, body: UploadIn, response: Response, actor: CurrentActor, uow: Uow, ctx: Ctx
) -> UploadOut:
    upload, new = uploads.create(uow, ctx.clock, actor, ctx.storage, project_id, **body.model_dump())
    out = UploadOut.of(upload, ctx.storage, API)
    response.status_code = status.HTTP_201_CREATED if new else status.HTTP_200_OK
    response.headers["Location"] = out.url
    return out


@router.get(f"{UPLOADS}/{{upload_id}}", response_model=UploadOut, summary="An upload under way: its offset")
def get_upload(project_id: IdPath, upload_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> UploadOut:
    upload = uploads.get(uow, ctx.clock, actor, ctx.storage, project_id, upload_id)
    return UploadOut.of(upload, ctx.storage, API)


@router.head(f"{UPLOADS}/{{upload_id}}", summary="An upload's offset as headers (Upload-Offset, Upload-Length)")
def head_upload(project_id: IdPath, upload_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> Response:
    upload = uploads.get(uow, ctx.clock, actor, ctx.storage, project_id, upload_id)
    headers = {"Upload-Offset": str(upload.received), "Upload-Length": str(upload.size), "Cache-Control": "no-store"}
    return Response(status_code=200, headers=headers)


@router.put(
    f"{UPLOADS}/{{upload_id}}",
    response_model=UploadOut,
    openapi_extra=_CHUNK_BODY,
    summary="Send the next chunk (Content-Range: bytes START-END/TOTAL, in order; 409 names the offset)",
)
async def put_chunk(
    project_id: IdPath,
    upload_id: IdPath,
    request: Request,
    actor: CurrentActor,
    ctx: Ctx,
    content_range: Annotated[str | None, Header(alias="Content-Range", include_in_schema=False)] = None,
) -> UploadOut:
    data = await request.body()  # bounded by the chunk limit (BodySizeLimit, CHUNK_PATH)
    upload = await run_in_threadpool(
        uploads.write_chunk,
        ctx.uow_factory,
        ctx.clock,
        actor,
        ctx.storage,
        project_id,
        upload_id,
        content_range,
        data,
    )
    return UploadOut.of(upload, ctx.storage, API)


@router.post(
    f"{UPLOADS}/{{upload_id}}/complete",
    status_code=status.HTTP_201_CREATED,
    response_model=StoredFileOut,
    summary="Finish an upload: sha256 verified, the file appears under its name (413 over the quota)",
)
def complete_upload(
    project_id: IdPath,
    upload_id: IdPath,
    response: Response,
    actor: CurrentActor,
    ctx: Ctx,
    body: CompleteIn | None = None,
) -> StoredFileOut:
    sha256 = body.sha256 if body is not None else None
    stored = uploads.complete(ctx.uow_factory, ctx.clock, actor, ctx.storage, project_id, upload_id, sha256)
    response.headers["Location"] = f"{API}/projects/{project_id}/storage/files/{quote(stored.name, safe='/')}"
    return StoredFileOut.model_validate(stored)


@router.delete(f"{UPLOADS}/{{upload_id}}", status_code=status.HTTP_204_NO_CONTENT, summary="Cancel an upload under way")
def cancel_upload(project_id: IdPath, upload_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> None:
    uploads.cancel(uow, ctx.clock, actor, ctx.storage, project_id, upload_id)


@router.post(
    "/projects/{project_id}/storage/datasets",
    status_code=status.HTTP_201_CREATED,
    response_model=CatalogEntryOut,
    summary="Register a stored file or folder as a catalog dataset (format, sha256, schema preview, provenance)",
)
def register_dataset(project_id: IdPath, body: DatasetIn, actor: CurrentActor, ctx: Ctx) -> CatalogEntryOut:
    fields = body.model_dump()
    entry = datasets.register(ctx.uow_factory, ctx.clock, actor, ctx.storage, project_id, **fields)
    return entry_out(entry)
