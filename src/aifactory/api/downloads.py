"""A job's artifact sent from the descriptor it was opened by (never reopened by path, so nothing swapped in
after the checks is served), always as a download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from ..services.job_outputs import OpenedArtifact

CHUNK = 256 * 1024


def _chunks(fh: BinaryIO, size: int) -> Iterator[bytes]:
    left = size  # what the file held when it was opened: a file still growing is not sent past that
    while left > 0:
        block = fh.read(min(CHUNK, left))
        if not block:
            return
        left -= len(block)
        yield block


def safe_filename(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._-") or "artifact"


def download(opened: OpenedArtifact) -> StreamingResponse:
    """``Content-Disposition: attachment``: a job's own HTML never runs on the factory's origin."""
    return StreamingResponse(
        _chunks(opened.file, opened.size),
        media_type="application/octet-stream",
        headers={
            "content-disposition": f'attachment; filename="{safe_filename(opened.name)}"',
            "content-length": str(opened.size),
        },
        background=BackgroundTask(opened.file.close),
    )
