"""A stored file or folder registered as a catalog dataset: its content becomes immutable (hard links into
``<data dir>/datasets/<ref>``, see ``services.storage_disk``), described by its format, size and sha256 (a
folder: the hash of its manifest), a schema preview for CSV and Parquet tables, and its provenance (who
uploaded it, when, from which project's storage path; who registered it). Organization-only by default; a
public dataset waits for an operator's approval like any public item (``services.catalog_review``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.catalog import CatalogItem, CatalogKind
from ..domain.datasets import (
    PREVIEW_COLUMNS,
    PREVIEW_ROWS,
    Column,
    ManifestEntry,
    Preview,
    cell,
    csv_preview,
    detect_format,
    manifest_sha256,
)
from ..domain.errors import NotFound, TooLarge
from ..domain.storage import StoredFile, basename, check_folder
from .catalog import Entry, _new_item
from .context import Actor
from .ports import Clock, UnitOfWork, UnitOfWorkFactory
from .storage import group_gid, member_project
from .storage_disk import StorageArea

MAX_FILES = 10_000  # files of one registered folder
SNIFF_BYTES = 64 << 10  # read to tell a file's format
CSV_HEAD = 1 << 20  # a CSV's first bytes read for its preview
CSV_COUNTED = 16 << 20  # a CSV up to this size is read whole: its rows are counted
MANIFEST_SHOWN = 200  # a folder's files listed in the details (all count in its hash)


@dataclass(frozen=True)
class Content:
    """Where a dataset's bytes are: ``<datasets>/<ref>/<root>`` (a file, or a folder of files)."""

    ref: str
    root: str
    folder: bool

    def path(self, area: StorageArea) -> Path:
        return area.datasets / self.ref / self.root


def content_of(item: CatalogItem) -> Content | None:
    """The stored content of a dataset registered from project storage (None for other items)."""
    found = item.details.get("content") if item.kind is CatalogKind.DATASET else None
    if not isinstance(found, dict) or not {"ref", "root", "folder"} <= found.keys():
        return None
    return Content(str(found["ref"]), str(found["root"]), bool(found["folder"]))


def register(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    actor: Actor,
    area: StorageArea,
    project_id: int,
    *,
    path: str,
    licence: str | None = None,
    **item: Any,
) -> Entry:
    """``path`` (a stored file, or a folder: every file in it) as a dataset of the actor's organization;
    ``item``: the catalog fields (slug, title, summary, body, tags, visibility). One transaction; the content
    is linked in under the project's lock, so a concurrent upload cannot change what is registered."""
    name = check_folder(path, "path").rstrip("/")
    with uow_factory() as uow:
        member_project(uow, actor, project_id)
        uow.storage.lock_project(project_id)
        files = _files(uow, project_id, name)
        content = Content(secrets.token_hex(16), basename(name), files[0].name != name)
        gid = group_gid(uow, clock, area, actor, project_id)
        folder = area.new_dataset(content.ref, gid)
        try:
            for f in files:
                area.link_into(project_id, f.name, folder, _relative(content, name, f), gid)
            facts = describe(content.path(area), name, files, content)
            details = {k: v for k, v in {"licence": licence, **facts.summary}.items() if v is not None}
            entry = _new_item(uow, clock, actor, kind="dataset", details=details, **item)
            provenance = _provenance(uow, clock, actor, project_id, name, files)
            entry.details = {**details, **facts.extra, "provenance": provenance}
            uow.commit()
        except BaseException:
            area.drop_dataset(content.ref)
            raise
        return Entry(entry, [])


def _files(uow: UnitOfWork, project_id: int, name: str) -> list[StoredFile]:
    single = uow.storage.file(project_id, name)
    files = [single] if single is not None else uow.storage.under(project_id, name, MAX_FILES + 1)
    if not files:
        raise NotFound(f"no file or folder {name!r} in the storage of project {project_id}")
    if len(files) > MAX_FILES:
        raise TooLarge(f"path: folder {name!r} holds more than {MAX_FILES:,} files; register a smaller one")
    return files


def _relative(content: Content, name: str, f: StoredFile) -> str:
    """The file's place inside the dataset's folder (``<root>`` or ``<root>/<path inside the folder>``)."""
    return content.root if not content.folder else f"{content.root}/{f.name[len(name) + 1 :]}"


def _provenance(
    uow: UnitOfWork, clock: Clock, actor: Actor, project_id: int, name: str, files: list[StoredFile]
) -> dict[str, Any]:
    people = sorted({f.created_by for f in files if f.created_by is not None})
    users = [u for u in (uow.users.get(i) for i in people) if u is not None]
    return {
        "source": "project-storage",
        "project_id": project_id,
        "storage_path": name,
        "uploaded_by": [{"id": u.id, "name": u.name} for u in users],
        "uploaded_from": min(f.updated_at for f in files).isoformat(),
        "uploaded_until": max(f.updated_at for f in files).isoformat(),
        "registered_by": {"id": actor.id, "name": actor.user.name},
        "registered_at": clock.now().isoformat(),
        "job_id": None,  # a dataset a job produced names it (services.catalog.publish_job_output)
    }


# ------------------------------------------------------------------ what the content is


@dataclass(frozen=True)
class Facts:
    summary: dict[str, Any]  # format, size, sha256 (the dataset kind's own details)
    extra: dict[str, Any]  # content, files, manifest, preview


def describe(path: Path, name: str, files: list[StoredFile], content: Content) -> Facts:
    """Format, size, sha256 and preview of the registered content (read from the dataset's own copy)."""
    if not content.folder:
        (only,) = files
        fmt = _format(path, only.name)
        extra = {"content": _content(content), "files": 1, "preview": _preview(path, fmt, only.size)}
        return Facts({"format": fmt, "size": only.size, "sha256": only.sha256}, extra)
    entries = [ManifestEntry(f.name[len(name) + 1 :], f.size, f.sha256) for f in files]
    formats = {e.path: _format(path / e.path, e.path) for e in entries}
    kinds = set(formats.values())
    fmt = kinds.pop() if len(kinds) == 1 else "other"
    table = next((e for e in sorted(entries, key=lambda e: e.path) if formats[e.path] in ("csv", "parquet")), None)
    preview = None if table is None else _preview(path / table.path, formats[table.path], table.size)
    if preview is not None and table is not None:
        preview["file"] = table.path
    shown = sorted(entries, key=lambda e: e.path)[:MANIFEST_SHOWN]
    extra = {
        "content": _content(content),
        "files": len(entries),
        "manifest": [{"path": e.path, "size": e.size, "sha256": e.sha256, "format": formats[e.path]} for e in shown],
        "preview": preview,
    }
    return Facts({"format": fmt, "size": sum(e.size for e in entries), "sha256": manifest_sha256(entries)}, extra)


def _content(content: Content) -> dict[str, Any]:
    return {"ref": content.ref, "root": content.root, "folder": content.folder}


def _read(path: Path, nbytes: int, *, tail: int = 0) -> tuple[bytes, bytes]:
    with path.open("rb") as fh:
        head = fh.read(nbytes)
        if not tail:
            return head, b""
        size = os.fstat(fh.fileno()).st_size
        fh.seek(max(size - tail, 0))
        return head, fh.read(tail)


def _format(path: Path, name: str) -> str:
    head, tail = _read(path, SNIFF_BYTES, tail=4)
    return detect_format(name, head, tail)


def _preview(path: Path, fmt: str, size: int) -> dict[str, Any] | None:
    if fmt == "csv":
        head, _ = _read(path, CSV_COUNTED if size <= CSV_COUNTED else CSV_HEAD)
        return csv_preview(head, complete=size <= CSV_COUNTED).as_details()
    if fmt == "parquet":
        return parquet_preview(path).as_details()
    return None


def parquet_preview(path: Path) -> Preview:
    """Columns and types from the file's schema, the row count from its footer, the first rows."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return Preview([], [], notes=["no preview: the server has no pyarrow (pip install aifactory[ml])"])
    try:
        table = pq.ParquetFile(path)
        fields = list(table.schema_arrow)[:PREVIEW_COLUMNS]
        names = [f.name for f in fields]
        batch = next(table.iter_batches(batch_size=PREVIEW_ROWS, columns=names), None)
        rows = [] if batch is None else [[cell(r.get(n)) for n in names] for r in batch.to_pylist()[:PREVIEW_ROWS]]
        columns = [Column(str(f.name), str(f.type)) for f in fields]
        width = len(table.schema_arrow)
        notes = [f"{width} columns; the first {PREVIEW_COLUMNS} are shown"] if width > PREVIEW_COLUMNS else []
        return Preview(columns, rows, row_count=int(table.metadata.num_rows), notes=notes)
    except Exception as exc:  # noqa: BLE001 - a damaged file is described, never a failed registration
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return Preview([], [], notes=[f"not readable as Parquet: {reason}"])
