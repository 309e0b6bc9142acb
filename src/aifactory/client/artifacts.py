"""A job's artifacts: the files its spec names as outputs, listed and downloaded with their sha256 checked."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx

from .base import ClientBase, HttpCall, Json
from .errors import AifactoryError, ChecksumMismatch, error_from_response

CHUNK = 1 << 16

Progress = Callable[[int, int | None], None]  # bytes so far, total (None when unknown)


class _Download:
    """Reads a streamed artifact into a file, hashing it; every attempt starts the file over."""

    def __init__(self, into: Path, progress: Progress | None):
        self.into, self.progress, self.sha256 = into, progress, ""

    def __call__(self, response: httpx.Response) -> None:
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None
        digest, done = hashlib.sha256(), 0
        with self.into.open("wb") as fh:
            if self.progress is not None:
                self.progress(0, total)
            for block in response.iter_bytes(CHUNK):
                fh.write(block)
                digest.update(block)
                done += len(block)
                if self.progress is not None:
                    self.progress(done, total)
        self.sha256 = digest.hexdigest()


class ArtifactsMixin(ClientBase):
    """List and download a job's artifacts."""

    def list_artifacts(self, job_id: int, checksums: bool = False) -> list[Json]:
        """The files the spec's ``outputs`` name: ``path`` (relative), ``size``, ``modified_at`` and, with
        ``checksums``, ``sha256``."""
        return self._get_list(f"/jobs/{job_id}/artifacts", checksums=checksums or None)

    def download_artifact(
        self,
        job_id: int,
        path: str,
        dest: str | os.PathLike[str],
        *,
        sha256: str | None = None,
        progress: Progress | None = None,
    ) -> Path:
        """Stream artifact ``path`` into the file ``dest`` (into ``dest/path`` when ``dest`` is a folder) and
        answer where it went. With ``sha256`` the content is checked (:class:`ChecksumMismatch`, and no file,
        when it differs). ``progress(done, total)`` is called as bytes arrive. Written to ``*.part`` first,
        so a failed download leaves no half file behind."""
        target = Path(dest)
        if target.is_dir():
            target = inside(target, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        url = f"{self.base_url}/jobs/{job_id}/artifacts/{quote(path, safe='/')}"
        download = _Download(partial, progress)
        try:
            response = self._send(HttpCall("GET", url, headers={"Accept": "*/*"}), read=download)
            if response.is_error:
                raise error_from_response(response)
            if sha256 is not None and download.sha256 != sha256.lower():
                raise ChecksumMismatch(job_id, path, sha256, download.sha256)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        return target

    def download_artifacts(
        self,
        job_id: int,
        dest_dir: str | os.PathLike[str],
        *,
        progress: Callable[[Json, int, int | None], None] | None = None,
    ) -> list[Path]:
        """Every artifact of the job into ``dest_dir`` (keeping their relative paths), each checked against
        the sha256 the server computed. ``progress(artifact, done, total)`` follows each download."""
        folder = Path(dest_dir)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for artifact in self.list_artifacts(job_id, checksums=True):
            step = None if progress is None else _progress_of(artifact, progress)
            where = inside(folder, artifact["path"])
            out.append(
                self.download_artifact(job_id, artifact["path"], where, sha256=artifact.get("sha256"), progress=step)
            )
        return out


def _progress_of(artifact: Json, progress: Callable[[Json, int, int | None], None]) -> Progress:
    return lambda done, total: progress(artifact, done, total)


def inside(folder: Path, relative: str) -> Path:
    """``folder/relative``, refusing paths that would leave the folder."""
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder.resolve()) or target == folder.resolve():
        raise AifactoryError(f"refusing to write artifact {relative!r} outside {folder}")
    return target
