"""Reading a job's log file by offset, the same way on every backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..domain.errors import InvalidInput
from ..domain.jobs.execution import LogChunk

STREAMS = ("stdout", "stderr")


def check_stream(stream: str) -> None:
    if stream not in STREAMS:
        raise InvalidInput.on("stream", "must be stdout or stderr")


def read_chunk(path: Path, offset: int, limit: int, over: Callable[[], bool]) -> LogChunk:
    """Up to ``limit`` bytes of ``path`` from ``offset`` (a missing file reads as empty). ``over`` says whether
    the task has finished; it is asked only when this read reaches the end of what is written, and before
    reading, so nothing written after the answer is missed: the chunk is complete when the task was over and
    the read got everything."""
    offset = max(0, int(offset))
    size = path.stat().st_size if path.exists() else 0
    final = size - offset <= limit and over()
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read(limit)
            size = path.stat().st_size
    except FileNotFoundError:
        data, size = b"", 0
    end = offset + len(data)
    return LogChunk(data=data, offset=end, complete=final and end >= size)
