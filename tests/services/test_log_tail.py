"""LogSource.tail: the end of a log read through in bounded chunks."""

from __future__ import annotations

from dataclasses import dataclass

from aifactory.domain.jobs.execution import LogChunk
from aifactory.services.job_outputs import LogSource


@dataclass
class FileLikeBackend:
    text: bytes
    complete: bool
    reads: int = 0

    def logs(self, backend_id, job_dir, stream, offset, *, task=0, limit=1 << 20):  # type: ignore[no-untyped-def]
        self.reads += 1
        part = self.text[offset : offset + limit]
        return LogChunk(part, offset + len(part), self.complete and offset + len(part) >= len(self.text))


@dataclass
class Gateway:
    backend: FileLikeBackend


def source(text: bytes, complete: bool = True) -> tuple[LogSource, FileLikeBackend]:
    backend = FileLikeBackend(text, complete)
    return LogSource(Gateway(backend), 1, "local-1", "/x", "stdout", 0, complete), backend  # type: ignore[arg-type]


def test_tail_keeps_only_the_last_bytes_and_the_offset_after_them() -> None:
    log = b"".join(b"line %03d\n" % i for i in range(100))
    src, backend = source(log)
    chunk = src.tail(27, chunk=64)
    assert chunk.data == log[-27:] and chunk.offset == len(log) and chunk.complete
    assert backend.reads == len(log) // 64 + 2  # read through in chunks, then one empty read


def test_a_short_or_empty_log_comes_back_whole() -> None:
    assert source(b"hello\n")[0].tail(1000).data == b"hello\n"
    empty = source(b"", complete=False)[0].tail(1000)
    assert (empty.data, empty.offset, empty.complete) == (b"", 0, False)
