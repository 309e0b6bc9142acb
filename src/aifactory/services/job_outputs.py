"""What a job leaves behind: its logs (read by offset, for following) and its artifacts (the files its
spec's ``outputs`` name, inside the job's working directory; found and opened without ever following a symlink,
see ``services.confined``)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from ..domain.errors import NotFound
from ..domain.jobs.execution import WORK_SUBDIR, LogChunk, Stream
from ..domain.jobs.model import Job
from ..domain.jobs.spec import parse_spec
from . import confined
from .confined import FileEntry
from .context import Actor
from .gateway import Gateway
from .jobs import get_job

MAX_WALK = 10_000  # entries of a working directory looked at for artifacts (a job cannot make us walk forever)


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


@dataclass(frozen=True)
class OpenedArtifact:
    """An artifact opened for reading (by descriptor, see ``services.confined``); the caller closes ``file``."""

    path: str
    size: int
    file: BinaryIO

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


def working_folder(job: Job) -> PurePosixPath:
    """The job's working directory, relative to its job folder: ``work``, or the spec's ``workdir`` inside it."""
    workdir = parse_spec(job.spec).workdir
    return PurePosixPath(WORK_SUBDIR, workdir or ".")


def _segment(text: str) -> str:
    """One path segment of a glob as a regular expression: ``*``, ``?`` and ``[...]`` never match a '/'."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        end = text.find("]", i + 2) if c == "[" else -1
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif end > 0:
            body = text[i + 1 : end]
            negated = body.startswith("!")
            chars = re.escape(body[1:] if negated else body).replace("\\-", "-")
            out.append(f"(?!/)[{'^' if negated else ''}{chars}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob (``**`` for any number of folders, none included) as one expression over a whole relative path.
    It matches a folder too: a folder stands for the files under it (see ``_matches``)."""
    segments = [p for p in PurePosixPath(pattern).parts if p != "."]
    out, pending = "", False
    for seg in segments:
        if seg == "**":
            pending = True
            continue
        lead = "" if not out else "/"
        out += (lead + "(?:[^/]+/)*" if pending else lead) + _segment(seg)
        pending = False
    if pending:
        out += "(?:/[^/]+)*" if out else "[^/]+(?:/[^/]+)*"
    return re.compile(out or "(?!)")


def _folders_and_self(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: k + 1]) for k in range(len(parts))]


def _matches(gw: Gateway, job: Job) -> dict[str, FileEntry]:
    """The regular files the spec's outputs name, in the order of the patterns. Found by walking the working
    directory by descriptor: symlinks are never followed, so nothing outside the job's folder is reached."""
    files = confined.regular_files(gw.job_dir(job.stored_id), working_folder(job), limit=MAX_WALK)
    files.sort(key=lambda f: f.path.split("/"))
    found: dict[str, FileEntry] = {}
    for pattern in parse_spec(job.spec).outputs:
        regex = glob_regex(pattern)
        for entry in files:
            if entry.path not in found and any(regex.fullmatch(p) for p in _folders_and_self(entry.path)):
                found[entry.path] = entry
    return found


def _open(gw: Gateway, job: Job, path: str) -> BinaryIO | None:
    return confined.open_file(gw.job_dir(job.stored_id), working_folder(job) / path)


def _sha256(fh: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _checksum(gw: Gateway, job: Job, path: str) -> str | None:
    fh = _open(gw, job, path)
    if fh is None:
        return None  # swapped for a symlink (or removed) since the walk
    with fh:
        return _sha256(fh)


def read_head(gw: Gateway, job: Job, path: str, nbytes: int) -> bytes | None:
    """The first ``nbytes`` of an artifact that ``list_artifacts`` found (opened again, never through a
    symlink); None when it is gone or was swapped for something that is not a regular file."""
    fh = _open(gw, job, path)
    if fh is None:
        return None
    with fh:
        return fh.read(nbytes)


def list_artifacts(uow: Any, actor: Actor, gw: Gateway, job_id: int, *, checksums: bool = False) -> list[Artifact]:
    job = get_job(uow, actor, job_id)
    out = []
    for rel, entry in _matches(gw, job).items():
        digest = _checksum(gw, job, rel) if checksums else None
        if checksums and digest is None:
            continue
        out.append(Artifact(rel, entry.size, datetime.fromtimestamp(entry.mtime, UTC), digest))
    return out


def open_artifact(uow: Any, actor: Actor, gw: Gateway, job_id: int, path: str) -> OpenedArtifact:
    """The file to download, opened: it must be one of the job's artifacts (anything else is not found)."""
    job = get_job(uow, actor, job_id)
    fh = _open(gw, job, path) if path in _matches(gw, job) else None
    if fh is None:
        raise NotFound(f"job {job_id} has no artifact {path!r}")
    return OpenedArtifact(path, os.fstat(fh.fileno()).st_size, fh)
