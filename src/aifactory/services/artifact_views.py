"""What the portal shows of a job's artifacts: for each listed file how it is shown (``domain.jobs.previews``),
with the first rows of a table read from the file; and the file to serve for viewing (an HTML report or an
image), refused for anything else. Files are opened as ``services.job_outputs`` opens them: never through a
symlink, only regular files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.errors import NotFound
from ..domain.jobs.model import Job
from ..domain.jobs.previews import (
    DOWNLOAD_ONLY,
    TABLE_HEAD_BYTES,
    Preview,
    PreviewKind,
    TablePreview,
    parse_table,
    preview_of,
)
from . import job_outputs
from .context import Actor
from .gateway import Gateway
from .job_outputs import Artifact, OpenedArtifact

MAX_INLINE = 8  # artifacts shown inline on one page; the others are listed for download only


@dataclass(frozen=True)
class ArtifactView:
    artifact: Artifact
    preview: Preview
    table: TablePreview | None = None

    @property
    def inline(self) -> bool:
        return self.preview.kind is not PreviewKind.DOWNLOAD


def _table(gw: Gateway, job: Job, artifact: Artifact, preview: Preview) -> TablePreview | None:
    head = job_outputs.read_head(gw, job, artifact.path, TABLE_HEAD_BYTES + 1)
    if head is None:
        return None
    return parse_table(head, preview.separator, whole=len(head) <= TABLE_HEAD_BYTES)


def artifact_views(gw: Gateway, job: Job, artifacts: list[Artifact]) -> list[ArtifactView]:
    """Every listed artifact with how it is shown: the first ``MAX_INLINE`` that can be shown inline are,
    tables with their first rows (at most ``TABLE_HEAD_BYTES`` read from each)."""
    out: list[ArtifactView] = []
    shown = 0
    for artifact in artifacts:
        preview = preview_of(artifact.path, artifact.size)
        if preview.kind is PreviewKind.DOWNLOAD or shown >= MAX_INLINE:
            out.append(ArtifactView(artifact, DOWNLOAD_ONLY))
            continue
        table = _table(gw, job, artifact, preview) if preview.kind is PreviewKind.TABLE else None
        if preview.kind is PreviewKind.TABLE and table is None:
            out.append(ArtifactView(artifact, DOWNLOAD_ONLY))
            continue
        shown += 1
        out.append(ArtifactView(artifact, preview, table))
    return out


def open_viewable(uow: Any, actor: Actor, gw: Gateway, job_id: int, path: str) -> tuple[OpenedArtifact, Preview]:
    """An HTML report or an image of the job, opened, with the type it is served as; anything else (another
    kind of file, or one too large to show) is not found here: it is downloaded."""
    opened = job_outputs.open_artifact(uow, actor, gw, job_id, path)
    preview = preview_of(opened.path, opened.size)
    if not preview.framed:
        opened.file.close()
        raise NotFound(f"job {job_id}'s artifact {path!r} is not shown in the browser; download it")
    return opened, preview
