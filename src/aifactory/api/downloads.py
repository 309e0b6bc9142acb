"""A job's artifact sent from the descriptor it was opened by (never reopened by path, so nothing swapped in
after the checks is served): as a download, or — an HTML report or an image the portal shows — for viewing
under a sandbox policy that leaves it no active content on the factory's origin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from ..services.job_outputs import OpenedArtifact

CHUNK = 256 * 1024
# What a viewed artifact may do: nothing active. ``sandbox`` (no tokens) gives the document an opaque origin
# with scripts, forms, popups, top navigation and plugins off, also when it is opened outside the portal's
# frame; only inline styles and images inlined as data:/blob: URLs load; nothing is fetched from anywhere.
VIEW_CSP = (
    "sandbox; default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)
DOWNLOAD_CSP = "sandbox; default-src 'none'"  # a download that a browser renders anyway stays inert


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


def _send(opened: OpenedArtifact, media_type: str, headers: dict[str, str]) -> StreamingResponse:
    return StreamingResponse(
        _chunks(opened.file, opened.size),
        media_type=media_type,
        headers={"content-length": str(opened.size), "x-content-type-options": "nosniff", **headers},
        background=BackgroundTask(opened.file.close),
    )


def download(opened: OpenedArtifact) -> StreamingResponse:
    """``Content-Disposition: attachment``: a job's own HTML never runs on the factory's origin."""
    return _send(
        opened,
        "application/octet-stream",
        {
            "content-disposition": f'attachment; filename="{safe_filename(opened.name)}"',
            "content-security-policy": DOWNLOAD_CSP,
        },
    )


def view(opened: OpenedArtifact, media_type: str) -> StreamingResponse:
    """For the portal's sandboxed frame (a report) or ``<img>`` (an image): served as ``media_type`` (never
    sniffed) under ``VIEW_CSP``; framed by the portal's own pages only, embedded by no other site."""
    return _send(
        opened,
        media_type,
        {
            "content-disposition": f'inline; filename="{safe_filename(opened.name)}"',
            "content-security-policy": VIEW_CSP,
            "x-frame-options": "SAMEORIGIN",
            "cross-origin-resource-policy": "same-origin",
            "referrer-policy": "no-referrer",
        },
    )
