"""Project storage's request and answer bodies: uploads, stored files, usage and quotas, datasets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field

from ...domain.storage import MAX_FILE_BYTES, UploadSession
from ...services.storage import StorageState
from ...services.storage_disk import StorageArea
from .catalog import ItemFields
from .common import In, Out, Page

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="the file's sha256 (64 hex digits)")]
NAME_HELP = "a relative path in the project's storage, folders with / (e.g. sales/2024.csv); at most 1024 bytes"


class UploadIn(In):
    name: str = Field(min_length=1, max_length=1024, description=NAME_HELP)
    size: int = Field(ge=0, le=MAX_FILE_BYTES, description="the file's size in bytes")
    sha256: Sha256 | None = Field(
        default=None,
        description="the file's sha256: checked when the upload completes; with it, creating the same upload "
        "again (name, size, sha256) resumes yours instead of starting over",
    )


class UploadOut(BaseModel):
    id: int
    project_id: int
    name: str
    size: int
    sha256: str | None
    offset: int = Field(description="bytes received from the start: the next chunk starts here")
    complete: bool = Field(description="every byte is in: POST …/complete makes the file appear")
    created_at: datetime
    updated_at: datetime
    expires_at: datetime = Field(description="removed if nothing is added to it before then")
    max_chunk_bytes: int = Field(description="the largest chunk one PUT may carry")
    url: str = Field(description="PUT chunks here with Content-Range: bytes START-END/TOTAL")

    @classmethod
    def of(cls, upload: UploadSession, area: StorageArea, prefix: str) -> UploadOut:
        return cls(
            id=upload.stored_id,
            project_id=upload.project_id,
            name=upload.name,
            size=upload.size,
            sha256=upload.sha256,
            offset=upload.received,
            complete=upload.complete,
            created_at=upload.created_at,
            updated_at=upload.updated_at,
            expires_at=upload.updated_at + timedelta(seconds=area.upload_seconds),
            max_chunk_bytes=area.chunk_bytes,
            url=f"{prefix}/projects/{upload.project_id}/storage/uploads/{upload.stored_id}",
        )


class CompleteIn(In):
    sha256: Sha256 | None = Field(default=None, description="required here unless given when the upload was created")


class StoredFileOut(Out):
    name: str
    size: int
    sha256: str
    created_by: int | None = Field(description="who uploaded it (its latest version)")
    created_at: datetime = Field(description="when the name was first stored")
    updated_at: datetime = Field(description="when its content was last uploaded")


class UsageOut(BaseModel):
    project_id: int
    bytes: int = Field(description="bytes the stored files take")
    files: int
    max_bytes: int = Field(description="the quota in effect")
    max_files: int
    quota_bytes: int | None = Field(description="an operator's quota for this project (null: the site's default)")
    quota_files: int | None
    uploading_bytes: int = Field(description="declared by the uploads under way (they count against the quota)")
    uploads: int

    @classmethod
    def of(cls, state: StorageState) -> UsageOut:
        return cls(
            project_id=state.project_id,
            bytes=state.usage.bytes,
            files=state.usage.files,
            max_bytes=state.limits.max_bytes,
            max_files=state.limits.max_files,
            quota_bytes=state.quota.max_bytes if state.quota else None,
            quota_files=state.quota.max_files if state.quota else None,
            uploading_bytes=state.uploading_bytes,
            uploads=state.uploads,
        )


class StorageFilesOut(Page[StoredFileOut]):
    usage: UsageOut


class QuotaIn(In):
    max_bytes: int | None = Field(default=None, ge=0, le=1 << 60, description="null: the site's default")
    max_files: int | None = Field(default=None, ge=0, le=100_000_000, description="null: the site's default")


class DatasetIn(ItemFields):
    path: str = Field(
        min_length=1, max_length=1025, description="a stored file, or a folder (every file in it), to register"
    )
    licence: str | None = Field(default=None, max_length=200, description="e.g. CC-BY-4.0")
