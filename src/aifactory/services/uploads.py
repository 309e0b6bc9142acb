"""Resumable uploads into a project's storage: an upload is created with the file's name and size (and, best,
its sha256), its bytes arrive in chunks (``Content-Range: bytes START-END/TOTAL``), each written at its offset
into a private file, strictly in order (a chunk that does not start where the upload continues is refused with
the offset to continue from), and the upload completes once every byte is in: the sha256 is computed and
checked, and the file appears under its name by one rename, with its size and sha256 recorded. Until then
listings, downloads and jobs do not see it. Over the quota (declared size at creation, real size at
completion) the answer is 413 and nothing is visible. Uploads nothing was added to for a while expire.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from ..domain.errors import Conflict, FieldError, InvalidInput, NotFound
from ..domain.storage import (
    ChunkRange,
    StoredFile,
    UploadSession,
    Usage,
    check_name,
    check_quota,
    check_sha256,
    check_size,
    parse_content_range,
)
from .audit import record, snapshot
from .context import Actor
from .ports import Clock, UnitOfWork, UnitOfWorkFactory
from .storage import group_gid, limits_of, member_project
from .storage_disk import StorageArea

log = logging.getLogger("aifactory.storage")
MAX_OPEN_UPLOADS = 100  # per project


def _clash(uow: UnitOfWork, project_id: int, name: str) -> None:
    other = uow.storage.clash(project_id, name)
    if other is not None:
        why = f"{other!r} is a file" if len(other) < len(name) else f"{name!r} is a folder (it holds {other!r})"
        raise Conflict(f"name: {why}; choose another name", [FieldError("name", "clashes with a stored file")])


def _quota(uow: UnitOfWork, area: StorageArea, project_id: int, name: str, size: int, *, reserve: bool) -> None:
    """``size`` more bytes under ``name`` (replacing the file of that name, if any) must fit the quota;
    ``reserve``: the uploads under way count with their declared sizes too."""
    usage, existing = uow.storage.usage(project_id), uow.storage.file(project_id, name)
    reserved = sum(u.size for u in uow.storage.open_uploads(project_id)) if reserve else 0
    freed = existing.size if existing is not None else 0
    check_quota(
        Usage(usage.bytes + reserved - freed, usage.files),
        limits_of(uow, area, project_id),
        add_bytes=size,
        add_files=0 if existing is not None else 1,
        what=f"storing {name!r}",
    )


def create(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    area: StorageArea,
    project_id: int,
    *,
    name: str,
    size: int,
    sha256: str | None = None,
) -> tuple[UploadSession, bool]:
    """A new upload (True), or the caller's open upload of the same name, size and sha256 to resume (False)."""
    name, size, sha256 = check_name(name), check_size(size), check_sha256(sha256)
    member_project(uow, actor, project_id)
    uow.storage.lock_project(project_id)
    open_ = uow.storage.open_uploads(project_id)
    for upload in open_:
        same = (upload.name, upload.size, upload.sha256) == (name, size, sha256)
        if same and sha256 is not None and upload.created_by == actor.id and not _expired(area, clock, upload):
            return upload, False
    if len(open_) >= MAX_OPEN_UPLOADS:
        raise Conflict(f"project {project_id} has {len(open_)} uploads under way; finish or cancel some first")
    _clash(uow, project_id, name)
    _quota(uow, area, project_id, name, size, reserve=True)
    now = clock.now()
    upload = uow.storage.add_upload(
        UploadSession(
            project_id=project_id,
            name=name,
            size=size,
            sha256=sha256,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
        )
    )
    area.new_part(upload.stored_id)
    uow.commit()
    return upload, True


def _expired(area: StorageArea, clock: Clock, upload: UploadSession) -> bool:
    return clock.now() - upload.updated_at > timedelta(seconds=area.upload_seconds)


def get(
    uow: UnitOfWork, clock: Clock, actor: Actor, area: StorageArea, project_id: int, upload_id: int
) -> UploadSession:
    """The caller's project's upload under way (another's answers like a missing one)."""
    member_project(uow, actor, project_id)
    upload = uow.storage.upload(upload_id)
    if upload is None or upload.project_id != project_id:
        raise NotFound(f"upload {upload_id} not found")
    if _expired(area, clock, upload):
        raise NotFound(f"upload {upload_id} expired (nothing was added to it for too long); start it again")
    return upload


def _in_order(upload: UploadSession, chunk: ChunkRange) -> None:
    if chunk.total != upload.size:
        raise InvalidInput.on("Content-Range", f"total {chunk.total:,} is not the upload's size {upload.size:,}")
    if chunk.start != upload.received:
        why = "were received already" if chunk.start < upload.received else "would leave a gap"
        raise Conflict(
            f"upload {upload.stored_id} continues at byte {upload.received:,}: bytes {chunk.start:,}-{chunk.end:,} "
            f"{why}; send the chunk that starts at byte {upload.received:,}",
            [FieldError("Content-Range", f"must start at {upload.received}")],
        )


def write_chunk(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    area: StorageArea,
    project_id: int,
    upload_id: int,
    content_range: str | None,
    data: bytes,
) -> UploadSession:
    """One chunk, written at its offset and flushed to disk before the upload's offset moves past it."""
    with uow_factory(write=False) as uow:
        get(uow, clock, actor, area, project_id, upload_id)
    chunk = parse_content_range(content_range)
    if len(data) != chunk.length:
        raise InvalidInput.on("Content-Range", f"names {chunk.length:,} bytes but the body holds {len(data):,}")
    with area.locked_part(upload_id) as fd:  # no other chunk of this upload moves the offset meanwhile
        with uow_factory(write=False) as uow:
            _in_order(get(uow, clock, actor, area, project_id, upload_id), chunk)
        area.write_at(fd, data, chunk.start)
        with uow_factory() as uow:
            upload = get(uow, clock, actor, area, project_id, upload_id)
            _in_order(upload, chunk)
            upload.received, upload.updated_at = chunk.end + 1, clock.now()
            uow.commit()
            return upload


def complete(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    area: StorageArea,
    project_id: int,
    upload_id: int,
    sha256: str | None = None,
) -> StoredFile:
    """Every byte in: the sha256 computed and checked (a mismatch discards the upload), the quota checked again,
    then the file moved into place and recorded in one transaction (moved back if it fails)."""
    given = check_sha256(sha256)
    with uow_factory(write=False) as uow:
        upload = get(uow, clock, actor, area, project_id, upload_id)
    if given is not None and upload.sha256 is not None and given != upload.sha256:
        raise InvalidInput.on("sha256", f"the upload was created with sha256 {upload.sha256}, not {given}")
    expected = given or upload.sha256
    if expected is None:
        raise InvalidInput.on("sha256", "required: give the file's sha256 when creating or completing the upload")
    if not upload.complete:
        raise Conflict(
            f"upload {upload_id} holds {upload.received:,} of {upload.size:,} bytes; send the rest before completing"
        )
    with area.locked_part(upload_id) as fd:
        actual = area.sha256_of(fd, upload.size)
        if actual != expected:
            discard(uow_factory, area, upload_id)
            raise InvalidInput.on(
                "sha256",
                f"the uploaded bytes have sha256 {actual}, not {expected}: the upload was discarded; send it again",
            )
        return _commit(uow_factory, clock, actor, area, project_id, upload_id, actual)


def _commit(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    area: StorageArea,
    project_id: int,
    upload_id: int,
    sha256: str,
) -> StoredFile:
    with uow_factory() as uow:
        uow.storage.lock_project(project_id)
        upload = get(uow, clock, actor, area, project_id, upload_id)
        _clash(uow, project_id, upload.name)
        _quota(uow, area, project_id, upload.name, upload.size, reserve=False)
        gid = group_gid(uow, clock, area, actor, project_id)
        placed = area.place(upload_id, project_id, upload.name, gid)
        try:
            stored = _record(uow, clock, actor, upload, sha256)
            uow.commit()
        except BaseException:
            placed.undo()
            raise
    placed.settle()
    return stored


def _record(uow: UnitOfWork, clock: Clock, actor: Actor, upload: UploadSession, sha256: str) -> StoredFile:
    now = clock.now()
    stored = uow.storage.file(upload.project_id, upload.name)
    before = snapshot(stored) if stored is not None else None
    if stored is None:
        stored = uow.storage.add(
            StoredFile(
                project_id=upload.project_id,
                name=upload.name,
                size=upload.size,
                sha256=sha256,
                created_by=actor.id,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        stored.size, stored.sha256, stored.created_by, stored.updated_at = upload.size, sha256, actor.id, now
    uow.storage.delete_upload(upload)
    uow.flush()
    record(uow, clock, actor, "storage.uploaded", stored, before, snapshot(stored))
    return stored


def cancel(uow: UnitOfWork, clock: Clock, actor: Actor, area: StorageArea, project_id: int, upload_id: int) -> None:
    upload = get(uow, clock, actor, area, project_id, upload_id)
    uow.storage.delete_upload(upload)
    uow.commit()
    area.drop_part(upload_id)


def discard(uow_factory: UnitOfWorkFactory, area: StorageArea, upload_id: int) -> None:
    with uow_factory() as uow:
        upload = uow.storage.upload(upload_id)
        if upload is not None:
            uow.storage.delete_upload(upload)
        uow.commit()
    area.drop_part(upload_id)


def expire(uow_factory: UnitOfWorkFactory, clock: Clock, area: StorageArea) -> int:
    """The reconciler's cleanup: uploads nothing was added to for ``area.upload_seconds`` are removed with their
    bytes, and so are private files no upload owns any more (a crash between the two). How many went."""
    before = clock.now() - timedelta(seconds=area.upload_seconds)
    with uow_factory(write=False) as uow:
        stale = [u.stored_id for u in uow.storage.stale_uploads(before)]
    if stale:
        with uow_factory() as uow:
            uow.storage.drop_uploads(stale, before)
            uow.commit()
    parts = area.part_ids()
    with uow_factory(write=False) as uow:
        live = uow.storage.upload_ids([i for i, _ in parts])
    orphans = [i for i, mtime in parts if i not in live and mtime < before.timestamp()]
    stale = [i for i in stale if i not in live]
    for upload_id in {*stale, *orphans}:
        area.drop_part(upload_id)
    if stale or orphans:
        log.info("storage: %d abandoned upload(s) removed", len(set(stale) | set(orphans)))
    return len(set(stale) | set(orphans))
