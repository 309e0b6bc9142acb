"""Reading a job's log file by offset, the same way on every backend."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..domain.errors import InvalidInput
from ..domain.jobs.execution import LogChunk
from ..services import confined

STREAMS = ("stdout", "stderr")


def check_stream(stream: str) -> None:
    if stream not in STREAMS:
        raise InvalidInput.on("stream", "must be stdout or stderr")


def _size(path: Path) -> int:
    try:
        st = path.lstat()  # a symlink is no log: its target's size means nothing here
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 0


def read_chunk(path: Path, offset: int, limit: int, over: Callable[[], bool]) -> LogChunk:
    """Up to ``limit`` bytes of ``path`` from ``offset`` (a missing file reads as empty). ``over`` says whether
    the task has finished; it is asked only when this read reaches the end of what is written, and before
    reading, so nothing written after the answer is missed: the chunk is complete when the task was over and
    the read got everything.

    The file lies in a job's folder, where the job may have put a symlink in its place: it is opened without
    following symlinks (``services.confined``), so a link reads as an empty log. An offset past the end (up to
    the largest one the API accepts) reads as nothing."""
    offset = max(0, int(offset))
    final = _size(path) - offset <= limit and over()
    data, size = b"", 0
    fh = confined.open_file(path.parent, path.name)
    if fh is not None:
        with fh:
            size = os.fstat(fh.fileno()).st_size
            data = os.pread(fh.fileno(), limit, offset) if offset < size else b""
            size = max(size, os.fstat(fh.fileno()).st_size)
    end = offset + len(data)
    return LogChunk(data=data, offset=end, complete=final and end >= size)
