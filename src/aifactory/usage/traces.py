"""Streaming readers of external job traces: the Standard Workload Format (SWF, Parallel Workloads Archive)
and the Alibaba GPU cluster trace 2023 (``openb_pod_list_*.csv``).

Each reader is a generator over the file, one line at a time (constant memory), yielding a typed record
for every usable line and a :class:`Skip` (reason, line number) for every line it cannot use. Comments
and blank lines are neither. Line endings may be LF or CRLF. Times are absolute Unix seconds (UTC):

* SWF: a job line has the 18 standard fields or more (sites append their own: the extras are ignored and
  counted in :attr:`SwfJob.extra`). Only the fields the import uses are validated — job number (1), submit
  time (2), wait (3), run time (4), allocated processors (5), requested processors (8, only where field 5
  is ``-1``), user (12) and group (13) — each an integer, or a decimal with nothing after the point
  (``100.0``); the others may hold anything (a decimal average CPU time in field 6, say).
  ``; UnixStartTime: N`` in the header is the epoch of the relative submit times (0 without one);
  start = submit + wait (wait ``-1``, unknown, counts as 0); end = start + run time.
  A last line without a newline is read when it holds all 18 standard fields (every field the import uses
  is then whole); with fewer it is ``truncated`` (the file was cut).
* Alibaba: columns by the header's names (extra columns ignored; without a header, the standard 11 in
  order). Times are seconds from the trace start, which the trace does not date: :data:`ALIBABA_EPOCH`
  (2023-01-01 UTC) is assumed. A pod runs from ``scheduled_time`` to ``deletion_time``; a pod never
  scheduled (empty ``scheduled_time``) is skipped. A last line without a newline is ``truncated``: its last
  column is a time the import uses, and a cut there would go unseen.

:func:`trace_identity` names a trace by its first record, so that copies of the same records (a comment
added, CRLF endings, a file cut short) have the same identity.
"""

from __future__ import annotations

import csv
import hashlib
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
ALIBABA_USED = ("name", "num_gpu", "gpu_milli", "qos", "pod_phase", "creation_time", "deletion_time", "scheduled_time")

# skip reasons
CORRUPT = "corrupt"  # bytes that are not text (NUL, non-ASCII in SWF, undecodable UTF-8)
TRUNCATED = "truncated"  # the last line, cut short (no newline)
FIELD_COUNT = "wrong-field-count"
NON_NUMERIC = "non-numeric"  # a field the import uses is not an integer
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
    submit: int  # as in the file (seconds from the trace's start)
    start: int  # Unix seconds
    runtime: int  # seconds
    processors: int
    user: int  # -1: unknown
    group: int
    extra: int = 0  # fields beyond the standard 18 on its line (ignored)

    @property
    def ident(self) -> str:
        return str(self.job)

    @property
    def record_key(self) -> str:
        """The record within its trace: job number and submit time."""
        return f"{self.job}@{self.submit}"


@dataclass(frozen=True, slots=True)
class AlibabaPod:
    line: int
    name: str
    created: str  # creation_time as in the file
    start: int  # Unix seconds (scheduled)
    runtime: int  # seconds until deletion
    num_gpu: int
    gpu_milli: int  # share of each GPU, ×1000
    qos: str
    phase: str

    @property
    def ident(self) -> str:
        return self.name

    @property
    def record_key(self) -> str:
        """The record within its trace: pod name and creation time."""
        return f"{self.name}@{self.created}"


def _number(token: bytes | str) -> int | None:
    """An integer field: ``12``, or ``12.0`` (a decimal that is whole); None for anything else."""
    try:
        return int(token)
    except ValueError:
        pass
    try:
        value = float(token)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _unix_start(comment: bytes, current: int) -> int:
    key, _, value = comment.lstrip(b"; \t").partition(b":")
    if key.strip().lower() == b"unixstarttime":
        found = _number(value.strip())
        return current if found is None else found
    return current


_SWF_USED = (0, 1, 2, 3, 4, 11, 12)  # job, submit, wait, run time, allocated processors, user, group


def _swf_job(no: int, parts: list[bytes], epoch: int) -> SwfJob | Skip:
    f = [_number(parts[i]) for i in _SWF_USED]
    job, submit, wait, runtime, procs, user, group = f
    if job is None or submit is None or wait is None or runtime is None or procs is None:
        return Skip(NON_NUMERIC, no)
    if user is None or group is None:
        return Skip(NON_NUMERIC, no)
    if runtime == -1:
        return Skip(UNKNOWN_RUNTIME, no)
    if runtime < 0:
        return Skip(NEGATIVE_RUNTIME, no)
    if procs < 0:
        requested = _number(parts[7])
        if requested is None:
            return Skip(NON_NUMERIC, no)
        procs = requested
    if procs < 0:
        return Skip(UNKNOWN_PROCESSORS, no)
    start = epoch + submit + max(wait, 0)
    extra = len(parts) - SWF_FIELDS
    return SwfJob(no, job, submit, start, runtime, procs, user, group, extra)


def _swf_lines(path: str | Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, stripped line, ended by a newline) of every non-blank line."""
    with open(path, "rb") as fh:
        for no, raw in enumerate(fh, 1):
            line = raw.strip()
            if line:
                yield no, line, raw.endswith(b"\n")


def read_swf(path: str | Path) -> Iterator[SwfJob | Skip]:
    """Every job line of an SWF file as a :class:`SwfJob`, or a :class:`Skip` saying why not."""
    epoch = 0
    for no, line, ended in _swf_lines(path):
        if line[:1] == b";":
            epoch = _unix_start(line, epoch)
            continue
        if not line.isascii() or b"\x00" in line:
            yield Skip(CORRUPT, no)
            continue
        parts = line.split()
        if len(parts) < SWF_FIELDS:
            yield Skip(FIELD_COUNT if ended else TRUNCATED, no)
            continue
        yield _swf_job(no, parts, epoch)


# ------------------------------------------------------------------ Alibaba


def _pod(no: int, row: list[str], at: dict[str, int], epoch: int) -> AlibabaPod | Skip:
    name, num_gpu, gpu_milli, qos, phase, created, deleted, scheduled = (row[at[c]] for c in ALIBABA_USED)
    if not scheduled.strip():
        return Skip(NOT_SCHEDULED, no)
    gpus, milli, end, start = _number(num_gpu), _number(gpu_milli), _number(deleted), _number(scheduled)
    if gpus is None or milli is None or end is None or start is None:
        return Skip(NON_NUMERIC, no)
    if gpus < 0 or milli < 0:
        return Skip(NEGATIVE_GPUS, no)
    if end < start:
        return Skip(NEGATIVE_RUNTIME, no)
    return AlibabaPod(
        line=no,
        name=name.strip(),
        created=created.strip(),
        start=epoch + start,
        runtime=end - start,
        num_gpu=gpus,
        gpu_milli=milli,
        qos=qos.strip(),
        phase=phase.strip(),
    )


def _csv_rows(path: str | Path) -> Iterator[tuple[int, list[str] | None, bool]]:
    """(line number, fields or None where the bytes are not text, ended by a newline) per non-blank line."""
    with open(path, "rb") as fh:
        for no, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield no, None, raw.endswith(b"\n")
                continue
            row = None if "\x00" in text else next(csv.reader([text]), [])
            yield no, row, raw.endswith(b"\n")


def _header(row: list[str]) -> dict[str, int] | None:
    """Column positions by name if ``row`` is a header naming every column the import uses."""
    names = {c.strip().lower(): i for i, c in enumerate(row)}
    return {c: names[c] for c in ALIBABA_USED} if all(c in names for c in ALIBABA_USED) else None


def read_alibaba(path: str | Path, *, epoch: int = ALIBABA_EPOCH) -> Iterator[AlibabaPod | Skip]:
    """Every pod row of an Alibaba ``openb_pod_list`` CSV as an :class:`AlibabaPod`, or a :class:`Skip`."""
    at = {c: ALIBABA_COLUMNS.index(c) for c in ALIBABA_USED}
    width, first = len(ALIBABA_COLUMNS), True
    for no, row, ended in _csv_rows(path):
        if row is None:
            yield Skip(CORRUPT, no)
            continue
        header = _header(row) if first else None
        first = False
        if header is not None:
            at, width = header, max(header.values()) + 1
            continue
        if not ended:
            yield Skip(TRUNCATED, no)
        elif len(row) < width:
            yield Skip(FIELD_COUNT, no)
        else:
            yield _pod(no, row, at, epoch)


# ------------------------------------------------------------------ identity


def _first_swf_record(path: str | Path) -> str:
    for _no, line, _ended in _swf_lines(path):
        if line[:1] != b";" and line.isascii() and b"\x00" not in line:
            parts = line.split()
            if len(parts) >= SWF_FIELDS:  # the first 17 fields: whole even where the 18th was cut
                return " ".join(p.decode() for p in parts[: SWF_FIELDS - 1])
    return ""


def _first_alibaba_record(path: str | Path) -> str:
    first = True
    for _no, row, ended in _csv_rows(path):
        if row is None:
            continue
        if first and _header(row) is not None:
            first = False
            continue
        first = False
        if ended and len(row) >= len(ALIBABA_COLUMNS):
            return ",".join(c.strip() for c in row)
    return ""


def trace_identity(fmt: str, path: str | Path) -> str:
    """16 hex digits naming the trace: the sha256 of its format and its first complete record (SWF: its first
    17 standard fields, single-spaced; Alibaba: the row's fields, stripped). Comments, blank lines, line endings,
    spacing and a cut further on do not change it. A file without a complete record is named by its
    format alone (it has no records to import)."""
    first = _first_swf_record(path) if fmt == "swf" else _first_alibaba_record(path)
    return hashlib.sha256(f"{fmt}\n{first}".encode()).hexdigest()[:16]
