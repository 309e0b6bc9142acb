"""A stored file sent from the descriptor it was opened by, whole or the one byte range a ``Range`` header asks
for (206 with ``Content-Range``; 416 when the range lies outside the file). ``ETag`` is the file's sha256, so a
client resumes a download with ``Range`` and ``If-Range``: when the file changed meanwhile it gets the whole
new file (200) instead of a mix of both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from ..domain.storage import RangeNotSatisfiable, basename, parse_range
from ..services.storage import OpenedFile
from .downloads import safe_filename
from .problems import problem

CHUNK = 256 * 1024


def _read(fh: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    fh.seek(start)
    left = length
    while left > 0:
        block = fh.read(min(CHUNK, left))
        if not block:
            return
        left -= len(block)
        yield block


def ranged(opened: OpenedFile, range_header: str | None, if_range: str | None) -> Response:
    """Always ``attachment`` and ``application/octet-stream``: a stored HTML file never runs on the portal."""
    etag = f'"{opened.stored.sha256}"'
    asked = range_header if if_range is None or if_range.strip() == etag else None  # changed: the whole file
    try:
        part = parse_range(asked, opened.size)
    except RangeNotSatisfiable as exc:
        opened.file.close()
        return problem(416, exc.title, str(exc), headers={"Content-Range": f"bytes */{exc.size}", "ETag": etag})
    headers = {
        "accept-ranges": "bytes",
        "etag": etag,
        "content-length": str(part.length),
        "content-disposition": f'attachment; filename="{safe_filename(basename(opened.stored.name))}"',
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox; default-src 'none'",
    }
    if part.partial:
        headers["content-range"] = f"bytes {part.start}-{part.end}/{opened.size}"
    return StreamingResponse(
        _read(opened.file, part.start, part.length),
        status_code=206 if part.partial else 200,
        media_type="application/octet-stream",
        headers=headers,
        background=BackgroundTask(opened.file.close),
    )
