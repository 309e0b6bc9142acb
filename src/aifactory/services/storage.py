"""Project storage's use cases: list a project's files with its usage against its quota, open one for a download,
delete files, and set a project's quota (operators). Uploads are in ``services.uploads``, datasets registered
from stored files in ``services.datasets``; the disk is ``services.storage_disk``.

A project's storage is its members' alone: anyone else (another tenant) gets the answer a missing project gets.
Operators see a project's listing and set its quota; reading or changing the files takes a member.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import BinaryIO

from ..domain.access import Page, PageRequest
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..domain.projects import Project
from ..domain.storage import (
    Limits,
    StorageQuota,
    StoredFile,
    Usage,
    check_folder,
    check_name,
    effective,
)
from . import confined, identities
from .audit import record, snapshot
from .context import Actor
from .ports import Clock, UnitOfWork
from .storage_disk import Placed, StorageArea

MAX_QUOTA_BYTES = 1 << 60
MAX_QUOTA_FILES = 100_000_000
MAX_DELETE = 100_000  # files one recursive delete removes at most


@dataclass(frozen=True)
class StorageState:
    """A project's usage against its quota (``quota``: the operator's, None where the defaults apply)."""

    project_id: int
    usage: Usage
    limits: Limits
    quota: StorageQuota | None
    uploading_bytes: int  # declared by the uploads under way (reserved against the quota)
    uploads: int


@dataclass(frozen=True)
class OpenedFile:
    """A stored file opened for reading (by descriptor, never through a symlink); the caller closes ``file``."""

    stored: StoredFile
    file: BinaryIO
    size: int


def visible_project(uow: UnitOfWork, actor: Actor, project_id: int) -> Project:
    """Its members and operators see it; to anyone else it does not exist."""
    project = uow.projects.get(project_id)
    if project is None or (not actor.is_operator and project.role_of(actor.id) is None):
        raise NotFound(f"project {project_id} not found")
    return project


def member_project(uow: UnitOfWork, actor: Actor, project_id: int) -> Project:
    """Reading and changing a project's files takes one of its members (an operator who is not one: 403)."""
    project = visible_project(uow, actor, project_id)
    if project.role_of(actor.id) is None:
        raise Forbidden("only the project's members read and change its storage")
    return project


def limits_of(uow: UnitOfWork, area: StorageArea, project_id: int) -> Limits:
    return effective(uow.storage.quota(project_id), area.defaults)


def group_gid(uow: UnitOfWork, clock: Clock, area: StorageArea, actor: Actor, project_id: int) -> int | None:
    """The gid the project's storage belongs to (identities on: its POSIX group, allocated if it has none yet),
    or None (the server's alone)."""
    if area.identities is None:
        return None
    group = uow.posix.group(project_id)
    if group is None:
        identities.allocate(uow, clock, area.identities, actor.id, project_id)
        group = uow.posix.group(project_id)
    return None if group is None else group.gid


def state(uow: UnitOfWork, actor: Actor, area: StorageArea, project_id: int) -> StorageState:
    visible_project(uow, actor, project_id)
    return _state(uow, area, project_id)


def _state(uow: UnitOfWork, area: StorageArea, project_id: int) -> StorageState:
    uploads = uow.storage.open_uploads(project_id)
    return StorageState(
        project_id,
        uow.storage.usage(project_id),
        limits_of(uow, area, project_id),
        uow.storage.quota(project_id),
        sum(u.size for u in uploads),
        len(uploads),
    )


def list_files(
    uow: UnitOfWork, actor: Actor, area: StorageArea, project_id: int, page: PageRequest, prefix: str | None = None
) -> tuple[Page[StoredFile], StorageState]:
    """The project's files (by name; ``prefix``: only names that start with it) and its usage."""
    if prefix is not None and len(prefix.encode("utf-8", "surrogatepass")) > 1024:
        raise InvalidInput.on("prefix", "at most 1024 bytes")
    found = state(uow, actor, area, project_id)
    return uow.storage.files(project_id, page, prefix or None), found


def open_file(uow: UnitOfWork, actor: Actor, area: StorageArea, project_id: int, name: str) -> OpenedFile:
    """A stored file to download, opened one path component at a time without following a symlink."""
    check_name(name, "path")
    member_project(uow, actor, project_id)
    stored = uow.storage.file(project_id, name)
    fh = confined.open_file(area.project_dir(project_id), name) if stored is not None else None
    if stored is None or fh is None:
        raise NotFound(f"no file {name!r} in the storage of project {project_id}")
    return OpenedFile(stored, fh, os.fstat(fh.fileno()).st_size)


def delete(
    uow: UnitOfWork, clock: Clock, actor: Actor, area: StorageArea, project_id: int, name: str, *, recursive: bool
) -> list[StoredFile]:
    """A file, or (``recursive``) every file in a folder. Each is set aside on disk, the rows are deleted and
    audited in one transaction, and only then are the files removed (put back if the transaction fails)."""
    name = check_folder(name, "path").rstrip("/")
    member_project(uow, actor, project_id)
    uow.storage.lock_project(project_id)
    stored = uow.storage.file(project_id, name)
    targets = [stored] if stored is not None else uow.storage.under(project_id, name, MAX_DELETE) if recursive else []
    if not targets:
        if uow.storage.under(project_id, name, 1):
            raise Conflict(f"{name!r} is a folder: delete it with recursive=true (aifactory data rm -r)")
        raise NotFound(f"no file {name!r} in the storage of project {project_id}")
    placed: list[Placed] = []
    try:
        for target in targets:
            placed.append(area.set_aside(project_id, target.name, secrets.token_hex(8)))
            uow.storage.delete_file(target)
            record(uow, clock, actor, "storage.deleted", target, snapshot(target), None)
        uow.commit()
    except BaseException:
        for p in reversed(placed):
            p.undo()
        raise
    for p, target in zip(placed, targets, strict=True):
        p.settle()
        area.prune(project_id, target.name)
    return targets


def _bound(value: int | None, field: str, top: int) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top):
        raise InvalidInput.on(field, f"a whole number between 0 and {top}, or null for the site's default")
    return value


def set_quota(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    area: StorageArea,
    project_id: int,
    *,
    max_bytes: int | None,
    max_files: int | None,
) -> StorageState:
    """An operator sets the project's quota (None: the site's default again). Files already stored stay, even
    over a lowered quota; new uploads are refused until the project is under it again."""
    actor.require_operator()
    _bound(max_bytes, "max_bytes", MAX_QUOTA_BYTES)
    _bound(max_files, "max_files", MAX_QUOTA_FILES)
    project = visible_project(uow, actor, project_id)
    old = uow.storage.quota(project_id)
    before = {"max_bytes": old.max_bytes if old else None, "max_files": old.max_files if old else None}
    quota = StorageQuota(
        project_id=project_id,
        max_bytes=max_bytes,
        max_files=max_files,
        updated_by=actor.id,
        updated_at=clock.now(),
    )
    uow.storage.save_quota(quota)
    record(uow, clock, actor, "storage.quota_set", project, before, {"max_bytes": max_bytes, "max_files": max_files})
    uow.commit()
    return _state(uow, area, project_id)
