"""A project's storage: resumable uploads in chunks (each sent through the one retry loop; after an interrupted
exchange the client asks the server where the upload stands and goes on from there), downloads that resume
with ``Range``/``If-Range`` and are checked against the file's sha256, listing, deleting, quotas and
registering a stored file or folder as a dataset."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import quote

import httpx

from .artifacts import Progress
from .base import ClientBase, HttpCall, Json, decoded, query, without_none
from .errors import AifactoryError, ConflictError, TransportError, error_from_response

BLOCK = 1 << 20
MAX_STALLS = 5  # recoveries in a row that moved the upload no further before giving up


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    """The file's sha256, read in blocks (``progress(done, total)`` as it goes)."""
    digest, done, total = hashlib.sha256(), 0, path.stat().st_size
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


class _Resumed:
    """Reads a download into ``part`` from the offset the answer starts at (206: where the partial file ends,
    200: from the start), hashing nothing yet; every attempt starts over from that offset."""

    def __init__(self, part: Path, have: int, progress: Progress | None):
        self.part, self.have, self.progress = part, have, progress

    def __call__(self, response: httpx.Response) -> None:
        start = self.have if response.status_code == 206 else 0
        length = int(response.headers.get("content-length") or 0)
        with self.part.open("r+b" if self.part.exists() else "wb") as fh:
            fh.seek(start)
            fh.truncate(start)
            done = start
            for block in response.iter_bytes(BLOCK):
                fh.write(block)
                done += len(block)
                if self.progress is not None:
                    self.progress(done, start + length)


class StorageMixin(ClientBase):
    """Upload, download, list and delete a project's files; quotas; datasets from stored files."""

    def _storage(self, project_id: int, rest: str = "") -> str:
        return f"{self.base_url}/projects/{project_id}/storage{rest}"

    def list_storage(self, project_id: int, *, prefix: str | None = None, limit: int = 200, offset: int = 0) -> Json:
        """A page of ``items`` (name, size, sha256, created_by, created_at, updated_at) plus ``usage``."""
        return self._get(f"/projects/{project_id}/storage/files", prefix=prefix, limit=limit, offset=offset)

    def stored_file(self, project_id: int, name: str) -> Json | None:
        """One stored file's facts, or None when the project has no file of that name."""
        page = self.list_storage(project_id, prefix=name, limit=1)
        return next((f for f in page["items"] if f["name"] == name), None)

    def delete_stored(self, project_id: int, name: str, *, recursive: bool = False) -> None:
        url = self._storage(project_id, f"/files/{quote(name, safe='/')}")
        decoded(self._send(HttpCall("DELETE", url, params=query(recursive=recursive or None))))

    def set_storage_quota(self, project_id: int, *, max_bytes: int | None, max_files: int | None) -> Json:
        return self._call(
            "PUT", f"/projects/{project_id}/storage/quota", {"max_bytes": max_bytes, "max_files": max_files}
        )

    def register_dataset(self, project_id: int, *, path: str, slug: str, title: str, **fields: Any) -> Json:
        """A stored file or folder as a catalog dataset (fields: summary, body, tags, visibility, licence)."""
        body = {"path": path, "slug": slug, "title": title, **without_none(**fields)}
        return self._call("POST", f"/projects/{project_id}/storage/datasets", body)

    # -- uploads

    def create_upload(self, project_id: int, *, name: str, size: int, sha256: str | None = None) -> Json:
        """A new upload, or (same name, size and sha256) yours that is under way: ``offset`` says where it stands."""
        body = without_none(name=name, size=size, sha256=sha256)
        return self._call("POST", f"/projects/{project_id}/storage/uploads", body)

    def upload_state(self, project_id: int, upload_id: int) -> Json:
        return self._get(f"/projects/{project_id}/storage/uploads/{upload_id}")

    def put_chunk(self, project_id: int, upload_id: int, data: bytes, start: int, total: int) -> Json:
        headers = {"Content-Range": f"bytes {start}-{start + len(data) - 1}/{total}"}
        headers["Content-Type"] = "application/octet-stream"
        url = self._storage(project_id, f"/uploads/{upload_id}")
        return cast(Json, decoded(self._send(HttpCall("PUT", url, content=data, headers=headers))))

    def complete_upload(self, project_id: int, upload_id: int, sha256: str | None = None) -> Json:
        return self._call(
            "POST", f"/projects/{project_id}/storage/uploads/{upload_id}/complete", without_none(sha256=sha256)
        )

    def upload_file(
        self,
        project_id: int,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        progress: Progress | None = None,
        hashing: Progress | None = None,
        chunk_bytes: int | None = None,
        on_resume: Callable[[int], None] | None = None,
    ) -> Json:
        """Upload a local file (named ``name``, default its file name), resuming your upload of the same name,
        size and sha256 if one is under way (``on_resume(offset)`` is told); the stored file once the server
        verified it."""
        source = Path(path)
        digest = file_sha256(source, hashing)
        size = source.stat().st_size
        upload = self.create_upload(project_id, name=name or source.name, size=size, sha256=digest)
        if upload["offset"] and on_resume is not None:
            on_resume(int(upload["offset"]))
        step = min(chunk_bytes or upload["max_chunk_bytes"], upload["max_chunk_bytes"])
        with source.open("rb") as fh:
            self._send_chunks(project_id, upload, fh, step, progress)
        return self.complete_upload(project_id, upload["id"])

    def _send_chunks(self, project_id: int, upload: Json, fh: BinaryIO, step: int, progress: Progress | None) -> None:
        offset, size, stalls = int(upload["offset"]), int(upload["size"]), 0
        while offset < size:
            if progress is not None:
                progress(offset, size)
            fh.seek(offset)
            data = fh.read(min(step, size - offset))
            try:
                offset = int(self.put_chunk(project_id, upload["id"], data, offset, size)["offset"])
                stalls = 0
            except (TransportError, ConflictError) as exc:  # interrupted, or the server stands elsewhere
                moved = int(self.upload_state(project_id, upload["id"])["offset"])
                stalls = 0 if moved > offset else stalls + 1
                if stalls >= MAX_STALLS:
                    raise AifactoryError(f"the upload makes no progress at byte {offset:,}: {exc}") from exc
                offset = moved
        if progress is not None:
            progress(size, size)

    # -- downloads

    def download_stored(
        self,
        project_id: int,
        name: str,
        dest: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        on_resume: Callable[[int], None] | None = None,
    ) -> Path:
        """Download a stored file to ``dest`` through ``dest.part``: a partial file left by an interrupted
        download is continued with ``Range`` (``If-Range``: only while the file is unchanged). The result is
        checked against the file's sha256 (a mismatch removes the partial file and raises)."""
        target = Path(dest)
        facts = self.stored_file(project_id, name)
        if facts is None:
            raise error_from_response(
                self._send(HttpCall("GET", self._storage(project_id, f"/files/{quote(name, safe='/')}")))
            )
        part = target.with_name(target.name + ".part")
        have = part.stat().st_size if part.exists() else 0
        have = have if 0 < have < facts["size"] else 0
        if have and on_resume is not None:
            on_resume(have)
        headers = {"Accept": "*/*"} | ({"Range": f"bytes={have}-", "If-Range": f'"{facts["sha256"]}"'} if have else {})
        url = self._storage(project_id, f"/files/{quote(name, safe='/')}")
        response = self._send(HttpCall("GET", url, headers=headers), read=_Resumed(part, have, progress))
        if response.is_error:
            raise error_from_response(response)
        got = file_sha256(part)
        if got != facts["sha256"]:
            part.unlink(missing_ok=True)
            raise AifactoryError(f"{name}: downloaded sha256 {got} is not the stored file's {facts['sha256']}; retry")
        part.replace(target)
        return target
