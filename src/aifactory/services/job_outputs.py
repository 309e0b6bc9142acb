"""What a job leaves behind: its logs (read by offset, for following) and its artifacts (the files its
spec's ``outputs`` name, confined to the job's working directory)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..domain.errors import NotFound
from ..domain.jobs.execution import WORK_SUBDIR, LogChunk, Stream
from ..domain.jobs.model import Job
from ..domain.jobs.spec import parse_spec
from .context import Actor
from .gateway import Gateway
from .jobs import get_job


@dataclass(frozen=True)
class LogSource:
    """Reads one stream of one job from any offset; built once per follower (one database read)."""

    gw: Gateway
    job_id: int
    backend_id: str | None
    job_dir: str
    stream: Stream
    task: int
    ended: bool  # the job is over (only matters while it has no backend id)

    def read(self, offset: int, limit: int = 1 << 20) -> LogChunk:
        if self.backend_id is None:
            return LogChunk(b"", offset, complete=self.ended)
        return self.gw.backend.logs(self.backend_id, self.job_dir, self.stream, offset, task=self.task, limit=limit)

    def tail(self, nbytes: int, chunk: int = 1 << 20) -> LogChunk:
        """The last ``nbytes`` written so far, and the offset after them: read through in chunks, so a long
        log never sits in memory whole."""
        data, offset = b"", 0
        while True:
            part = self.read(offset, chunk)
            data = (data + part.data)[-nbytes:]
            if not part.data:
                return LogChunk(data, part.offset, part.complete)
            offset = part.offset


def log_source(uow: Any, actor: Actor, gw: Gateway, job_id: int, stream: Stream, task: int) -> LogSource:
    job = get_job(uow, actor, job_id)
    return LogSource(gw, job.stored_id, job.backend_id, str(gw.job_dir(job.stored_id)), stream, task, job.terminal)


@dataclass(frozen=True)
class Artifact:
    path: str
    size: int
    modified_at: datetime
    sha256: str | None = None


def working_dir(gw: Gateway, job: Job) -> Path:
    spec = parse_spec(job.spec)
    return Path(spec.workdir) if spec.workdir else gw.job_dir(job.stored_id) / WORK_SUBDIR


def _matches(root: Path, patterns: tuple[str, ...]) -> dict[str, Path]:
    """Files named by the patterns (a folder stands for the files under it), only inside ``root``."""
    found: dict[str, Path] = {}
    base = root.resolve()
    for pattern in patterns:
        for hit in sorted(root.glob(pattern)):
            for path in sorted(hit.rglob("*")) if hit.is_dir() else [hit]:
                real = path.resolve()
                if real.is_file() and real.is_relative_to(base):  # no symlink leads out
                    found.setdefault(path.relative_to(root).as_posix(), real)
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_artifacts(uow: Any, actor: Actor, gw: Gateway, job_id: int, *, checksums: bool = False) -> list[Artifact]:
    job = get_job(uow, actor, job_id)
    out = []
    for rel, real in _matches(working_dir(gw, job), parse_spec(job.spec).outputs).items():
        st = real.stat()
        out.append(
            Artifact(rel, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC), _sha256(real) if checksums else None)
        )
    return out


def artifact_file(uow: Any, actor: Actor, gw: Gateway, job_id: int, path: str) -> Path:
    """The file to download: it must be one of the job's artifacts (anything else is not found)."""
    job = get_job(uow, actor, job_id)
    found = _matches(working_dir(gw, job), parse_spec(job.spec).outputs).get(path)
    if found is None:
        raise NotFound(f"job {job_id} has no artifact {path!r}")
    return found
