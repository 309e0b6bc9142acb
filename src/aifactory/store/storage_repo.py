"""Project storage's rows: stored files, uploads under way and quotas (``domain.storage``)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select

from ..domain.access import Page, PageRequest
from ..domain.storage import StorageQuota, StoredFile, UploadSession, Usage, parents
from . import tables as t
from .repositories import Repository


class StorageRepository(Repository[StoredFile]):
    entity = StoredFile

    def lock_project(self, project_id: int) -> bool:
        """Hold the project's row until the transaction ends (PostgreSQL: ``FOR UPDATE``; SQLite's write
        transaction holds the whole database): storage changes of one project happen one at a time."""
        c = t.projects.c
        return self.session.execute(select(c.id).where(c.id == project_id).with_for_update()).first() is not None

    def file(self, project_id: int, name: str) -> StoredFile | None:
        c = t.storage_files.c
        return self.session.scalar(select(StoredFile).where(c.project_id == project_id, c.name == name))

    def files(self, project_id: int, page: PageRequest, prefix: str | None = None) -> Page[StoredFile]:
        c = t.storage_files.c
        stmt = select(StoredFile).where(c.project_id == project_id).order_by(c.name)
        if prefix:
            stmt = stmt.where(c.name.startswith(prefix, autoescape=True))
        return self._page(stmt, page)

    def under(self, project_id: int, folder: str, limit: int) -> builtins.list[StoredFile]:
        """The files inside ``folder`` (at any depth), by name; at most ``limit``."""
        c = t.storage_files.c
        stmt = select(StoredFile).where(c.project_id == project_id, c.name.startswith(folder + "/", autoescape=True))
        return list(self.session.scalars(stmt.order_by(c.name).limit(limit)))

    def clash(self, project_id: int, name: str) -> str | None:
        """A stored file that stands where ``name`` needs a folder (one of its parents), or a file inside a
        folder called ``name``: either would make the two impossible on disk."""
        c = t.storage_files.c
        taken = or_(c.name.in_(parents(name)), c.name.startswith(name + "/", autoescape=True))
        return self.session.scalar(select(c.name).where(c.project_id == project_id, taken).limit(1))

    def usage(self, project_id: int) -> Usage:
        c = t.storage_files.c
        row = self.session.execute(
            select(func.coalesce(func.sum(c.size), 0), func.count()).where(c.project_id == project_id)
        ).one()
        return Usage(int(row[0]), int(row[1]))

    def delete_file(self, stored: StoredFile) -> None:
        self.session.delete(stored)
        self.session.flush()

    # -- uploads under way

    def upload(self, upload_id: int) -> UploadSession | None:
        return self.session.get(UploadSession, upload_id)

    def add_upload(self, upload: UploadSession) -> UploadSession:
        self.session.add(upload)
        self.session.flush()
        return upload

    def delete_upload(self, upload: UploadSession) -> None:
        self.session.delete(upload)
        self.session.flush()

    def open_uploads(self, project_id: int) -> builtins.list[UploadSession]:
        c = t.storage_uploads.c
        stmt = select(UploadSession).where(c.project_id == project_id).order_by(c.id)
        return list(self.session.scalars(stmt))

    def stale_uploads(self, before: datetime, limit: int = 500) -> builtins.list[UploadSession]:
        """Uploads nothing was added to since ``before`` (abandoned), oldest first."""
        c = t.storage_uploads.c
        stmt = select(UploadSession).where(c.updated_at < before).order_by(c.updated_at).limit(limit)
        return list(self.session.scalars(stmt))

    def upload_ids(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` are uploads under way."""
        if not ids:
            return set()
        c = t.storage_uploads.c
        return set(self.session.scalars(select(c.id).where(c.id.in_(list(ids)))))

    def drop_uploads(self, ids: Sequence[int], before: datetime) -> None:
        """Remove those of ``ids`` that are still stale (nothing added since ``before``)."""
        c = t.storage_uploads.c
        if ids:
            self.session.execute(delete(t.storage_uploads).where(c.id.in_(list(ids)), c.updated_at < before))

    # -- quotas

    def quota(self, project_id: int) -> StorageQuota | None:
        return self.session.get(StorageQuota, project_id)

    def save_quota(self, quota: StorageQuota) -> StorageQuota:
        merged = self.session.merge(quota)
        self.session.flush()
        return merged
