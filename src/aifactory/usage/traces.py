"""Streaming readers of external job traces: the Standard Workload Format (SWF, Parallel Workloads Archive)
and the Alibaba GPU cluster trace 2023 (``openb_pod_list_*.csv``).

Each reader is a generator over the file, one line at a time (constant memory), yielding a typed record
for every usable line and a :class:`Skip` (reason, line number) for every line it cannot use. Comments
and blank lines are neither. Times are absolute Unix seconds (UTC):

* SWF: ``; UnixStartTime: N`` in the header is the epoch of the relative submit times (0 without one);
  start = submit + wait (wait ``-1``, unknown, counts as 0); end = start + run time. Processors are the
  allocated ones (field 5), or the requested ones (field 8) where the allocation is unknown (``-1``).
* Alibaba: times are seconds from the trace start, which the trace does not date;
  :data:`ALIBABA_EPOCH` (2023-01-01 UTC) is assumed. A pod runs from ``scheduled_time`` to
  ``deletion_time``; a pod never scheduled (empty ``scheduled_time``) is skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SWF_FIELDS = 18
ALIBABA_EPOCH = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
ALIBABA_COLUMNS = (
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "gpu_spec",
    "qos",
    "pod_phase",
    "creation_time",
    "deletion_time",
    "scheduled_time",
)

# skip reasons
CORRUPT = "corrupt"  # bytes that are not text (NUL, non-ASCII in SWF, undecodable UTF-8)
TRUNCATED = "truncated"  # the last line, cut short (no newline, too few fields)
FIELD_COUNT = "wrong-field-count"
NON_NUMERIC = "non-numeric"
UNKNOWN_RUNTIME = "unknown-runtime"  # -1
NEGATIVE_RUNTIME = "negative-runtime"
UNKNOWN_PROCESSORS = "unknown-processors"
NEGATIVE_GPUS = "negative-gpus"
NOT_SCHEDULED = "never-scheduled"


@dataclass(frozen=True, slots=True)
class Skip:
    reason: str
    line: int


@dataclass(frozen=True, slots=True)
class SwfJob:
    line: int
    job: int
    start: int  # Unix seconds
    runtime: int  # seconds
    processors: int
    status: int
    user: int  # -1: unknown
    group: int
    partition: int

    @property
    def ident(self) -> str:
        return str(self.job)


@dataclass(frozen=True, slots=True)
class AlibabaPod:
    line: int
    name: str
    start: int  # Unix seconds (scheduled)
    runtime: int  # seconds until deletion
    num_gpu: int
    gpu_milli: int  # share of each GPU, ×1000
    qos: str
    phase: str

    @property
    def ident(self) -> str:
        return self.name


def _unix_start(comment: bytes, current: int) -> int:
    key, _, value = comment.lstrip(b"; \t").partition(b":")
    if key.strip().lower() == b"unixstarttime":
        try:
            return int(value.strip())
        except ValueError:
            return current
    return current


def _swf_job(no: int, parts: list[bytes], epoch: int) -> SwfJob | Skip:
    try:
        f = [int(p) for p in parts]
    except ValueError:
        return Skip(NON_NUMERIC, no)
    runtime = f[3]
    if runtime == -1:
        return Skip(UNKNOWN_RUNTIME, no)
    if runtime < 0:
        return Skip(NEGATIVE_RUNTIME, no)
    procs = f[4] if f[4] >= 0 else f[7]
    if procs < 0:
        return Skip(UNKNOWN_PROCESSORS, no)
    return SwfJob(
        line=no,
        job=f[0],
        start=epoch + f[1] + max(f[2], 0),
        runtime=runtime,
        processors=procs,
        status=f[10],
        user=f[11],
        group=f[12],
        partition=f[15],
    )


def read_swf(path: str | Path) -> Iterator[SwfJob | Skip]:
    """Every job line of an SWF file as a :class:`SwfJob`, or a :class:`Skip` saying why not."""
    epoch = 0
    with open(path, "rb") as fh:
        for no, raw in enumerate(fh, 1):
            line = raw.strip()
            if not line:
                continue
            if line[:1] == b";":
                epoch = _unix_start(line, epoch)
                continue
            if not line.isascii() or b"\x00" in line:
                yield Skip(CORRUPT, no)
                continue
            parts = line.split()
            if len(parts) != SWF_FIELDS:
                yield Skip(TRUNCATED if not raw.endswith(b"\n") and len(parts) < SWF_FIELDS else FIELD_COUNT, no)
                continue
            yield _swf_job(no, parts, epoch)


def _pod(no: int, row: list[str], epoch: int) -> AlibabaPod | Skip:
    name, _cpu, _mem, num_gpu, gpu_milli, _spec, qos, phase, _created, deleted, scheduled = row
    if not scheduled.strip():
        return Skip(NOT_SCHEDULED, no)
    try:
        gpus, milli, end, start = int(num_gpu), int(gpu_milli), int(deleted), int(scheduled)
    except ValueError:
        return Skip(NON_NUMERIC, no)
    if gpus < 0 or milli < 0:
        return Skip(NEGATIVE_GPUS, no)
    if end < start:
        return Skip(NEGATIVE_RUNTIME, no)
    return AlibabaPod(
        line=no,
        name=name.strip(),
        start=epoch + start,
        runtime=end - start,
        num_gpu=gpus,
        gpu_milli=milli,
        qos=qos.strip(),
        phase=phase.strip(),
    )


def read_alibaba(path: str | Path, *, epoch: int = ALIBABA_EPOCH) -> Iterator[AlibabaPod | Skip]:
    """Every pod row of an Alibaba ``openb_pod_list`` CSV as an :class:`AlibabaPod`, or a :class:`Skip`."""
    with open(path, "rb") as fh:
        header_seen = False
        for no, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield Skip(CORRUPT, no)
                continue
            if "\x00" in text:
                yield Skip(CORRUPT, no)
                continue
            row = next(csv.reader([text]), [])
            if not header_seen and row and row[0].strip() == "name":
                header_seen = True
                continue
            if len(row) != len(ALIBABA_COLUMNS):
                short = not raw.endswith(b"\n") and len(row) < len(ALIBABA_COLUMNS)
                yield Skip(TRUNCATED if short else FIELD_COUNT, no)
                continue
            yield _pod(no, row, epoch)
