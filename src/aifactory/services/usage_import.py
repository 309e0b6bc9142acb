"""Import an external job trace (SWF, Alibaba) into the ledger as a what-if scenario.

Every usable record becomes one ``charge`` entry with ``scenario`` set and no allocation (so it is never part
of a real balance), charged to the project its user/group (or pod/qos) maps to. Billing GPU-seconds:

* SWF: processors × run time × ``gpus_per_processor``; the default is the resource's GPUs per CPU core
  (``gpus_per_node / cpus_per_node``: a processor-second blocks that share of a node's GPUs), × the
  resource's GPU billing weight, rounded up. ``gpu_seconds`` is the same without the weight.
* Alibaba: ``num_gpu`` × ``gpu_milli``/1000 × run time (scheduled → deleted), × the GPU weight, rounded up.

**Idempotent per record.** An entry's key is the trace's identity (``trace_id``: given, or
``traces.trace_identity``, the hash of its first record), the scenario, the record's job number (pod name)
and submit (creation) time, and the replay pass. The same records imported again — from the same file, a
copy with comments added, CRLF endings, or a file cut short and then the full one — find their keys taken
and count as ``already-imported``: never twice in the ledger.

Every record read is counted once: ``imported`` (a new entry), ``already-imported``, ``zero-usage`` (it
bills nothing: run time 0, no GPU), or **skipped** by reason (``unmapped`` where no project maps to it and
there is no default; the readers' reasons). The import is ``done`` when every record was read, at least one
was usable, and none was skipped (or ``allow_skips``); otherwise it ends ``incomplete`` with ``problem``
saying why, and a rerun starts it again from the first record (fix the map, say, and rerun: the records
imported before count as already imported).

The import is recorded in ``usage_imports`` (one row per file hash and scenario). Rows go in batches, each in
one transaction with the checkpoint (records consumed, imported, counts by reason): a crash loses and
duplicates nothing, a rerun resumes at the checkpoint, and rerunning a ``done`` import changes nothing.
``replay_until=N`` replays the trace, each pass shifted by its span (first start to last end) rounded up to
whole days, until N records have been consumed.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from ..domain.errors import InvalidInput
from ..domain.sites import Resource
from ..usage import traces
from ..usage.mapping import ProjectMap, read_mapping, resolve_mapping
from .ports import Clock, UnitOfWork, UnitOfWorkFactory
from .repositories import ImportCheckpoint
from .usage_rows import ZERO_USAGE, Prepared, Row, RowMaker, Rule

FORMATS = ("swf", "alibaba")
CACHE_BYTES = 64 * 1024 * 1024  # a trace up to this size is parsed once and replayed from memory
LINES_KEPT = 5  # line numbers kept per skip reason
ALREADY = "already-imported"
COUNTED = (ALREADY, ZERO_USAGE)  # records read and accounted for without a new entry: not skips
TRACE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ImportProgress:
    position: int  # records consumed (the checkpoint)
    total: int  # records this import will consume
    imported: int
    skipped: dict[str, int]
    batches: int  # batches committed by this run


@dataclass
class ImportSummary:
    import_id: int
    source: str
    scenario: str
    sha256: str  # of the file (the import's row)
    trace_id: str  # the trace's identity in the entries' keys
    state: str  # done | incomplete
    position: int  # records read (consumed)
    total: int
    imported: int  # new entries
    skipped: dict[str, int]  # records that could not be used, by reason
    counted: dict[str, int] = field(default_factory=dict)  # already-imported, zero-usage: read, not skipped
    skipped_lines: dict[str, list[int]] = field(default_factory=dict)  # first lines per reason (this run)
    extra_field_lines: int = 0  # SWF: job lines (one pass) with fields beyond the standard 18, ignored
    most_fields: int = 0  # the most fields on one such line
    allow_skips: bool = False
    problem: str = ""  # why the import is not done (empty when it is)
    resumed_from: int = 0
    already_done: bool = False
    seconds: float = 0.0


def split_counts(counts: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """(skips, counted) of a checkpoint's counts by reason."""
    skipped = {k: v for k, v in counts.items() if k not in COUNTED}
    return skipped, {k: v for k, v in counts.items() if k in COUNTED}


def problem_of(position: int, counts: dict[str, int], allow_skips: bool) -> str:
    """Why an import that read ``position`` records with these counts is not done; empty when it is."""
    skipped, _ = split_counts(counts)
    n = sum(skipped.values())
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))
    if position == 0:
        return "the file holds no job records"
    if n >= position:
        return f"none of the {position:,} records could be imported ({reasons})"
    if n and not allow_skips:
        return f"{n:,} of {position:,} records skipped ({reasons})"
    return ""


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_args(path: Path, fmt: str, scenario: str, replay_until: int | None, batch: int) -> None:
    """Errors naming the argument, before anything is written."""
    if fmt not in FORMATS:
        raise InvalidInput.on("format", f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    if not path.is_file():
        raise InvalidInput.on("file", f"trace file {str(path)!r} not found")
    if not scenario.strip() or len(scenario) > 64:
        raise InvalidInput.on("scenario", "must be 1 to 64 characters")
    if replay_until is not None and replay_until < 1:
        raise InvalidInput.on("replay_until", "must be a positive number of records")
    if batch < 1:
        raise InvalidInput.on("batch", "must be positive")


def find_resource(uow: UnitOfWork, ref: str | int | None) -> Resource:
    resources = uow.resources.list_all()
    if ref is None:
        if len(resources) == 1:
            return resources[0]
        names = ", ".join(r.name for r in resources) or "none defined"
        raise InvalidInput.on("resource", f"name the resource to charge ({names})")
    found = [r for r in resources if r.name == str(ref) or str(r.id) == str(ref)]
    if len(found) != 1:
        why = "is ambiguous (give its id)" if found else "not found"
        raise InvalidInput.on("resource", f"resource {str(ref)!r} {why}")
    return found[0]


def billing_rule(fmt: str, resource: Resource, gpus_per_processor: Fraction | float | str | None) -> Rule:
    weight = Fraction(resource.gpu_billing_weight).limit_denominator(1_000_000)
    if fmt == "alibaba":
        per_unit = Fraction(1, 1000)  # a unit is one milli-GPU-second
    elif gpus_per_processor is not None:
        try:
            per_unit = Fraction(str(gpus_per_processor)).limit_denominator(1_000_000)
        except (ValueError, ZeroDivisionError):
            raise InvalidInput.on("gpus_per_processor", f"not a number: {gpus_per_processor!r}") from None
        if per_unit < 0:
            raise InvalidInput.on("gpus_per_processor", "must not be negative")
    else:
        per_unit = Fraction(resource.gpus_per_node, resource.cpus_per_node) if resource.cpus_per_node else Fraction(1)
    return Rule(gpu=per_unit, billing=per_unit * weight)


Record = traces.SwfJob | traces.AlibabaPod | traces.Skip
Item = Prepared | traces.Skip  # a record made ready for rows, or why it is skipped


def reader_for(fmt: str, path: Path) -> Callable[[], Iterator[Record]]:
    return (lambda: traces.read_swf(path)) if fmt == "swf" else (lambda: traces.read_alibaba(path))


@dataclass
class Trace:
    """Passes over the trace's records, each one ``prepare``-d (kept in memory when the file is small, else
    read again for every pass), and the trace's shape: records per pass, span in whole days, and the job
    lines with fields beyond the standard ones (and the most fields on one)."""

    read: Callable[[], Iterator[Item]]
    per_pass: int
    span_days: int
    extra_field_lines: int = 0
    most_fields: int = 0

    @classmethod
    def scan(cls, path: Path, read: Callable[[], Iterator[Record]], prepare: Callable[[Record], Item]) -> Trace:
        """One pass to learn the shape; it also prepares and keeps the records when the file is small."""
        keep = path.stat().st_size <= CACHE_BYTES
        cached: list[Item] = []
        n, first, last, extra_lines, most = 0, None, None, 0, 0
        for item in read():
            n += 1
            if keep:
                cached.append(prepare(item))
            if isinstance(item, traces.Skip):
                continue
            first = item.start if first is None else min(first, item.start)
            last = item.start + item.runtime if last is None else max(last, item.start + item.runtime)
            if isinstance(item, traces.SwfJob) and item.extra:
                extra_lines, most = extra_lines + 1, max(most, traces.SWF_FIELDS + item.extra)
        span_days = max(1, -(-((last or 0) - (first or 0)) // 86400))
        reader = (lambda: iter(cached)) if keep else (lambda: map(prepare, read()))
        return cls(reader, n, span_days, extra_lines, most)

    def items(self, position: int, total: int) -> Iterator[tuple[int, Item]]:
        """(replay, record or skip) from record ``position`` up to ``total`` records."""
        if self.per_pass == 0:
            return
        replay, offset = divmod(position, self.per_pass)
        left = total - position
        while left > 0:
            for item in itertools.islice(self.read(), offset, offset + left):
                yield replay, item
            left -= self.per_pass - offset
            replay, offset = replay + 1, 0


def _start(
    uow_factory: UnitOfWorkFactory, clock: Clock, fmt: str, path: Path, sha: str, scenario: str
) -> ImportCheckpoint:
    """The import's row (created as running if new; an incomplete one starts again from the first record)."""
    with uow_factory() as uow:
        checkpoint = uow.usage_imports.start(fmt, str(path), sha, scenario, clock.now())
        if checkpoint.state == "incomplete":
            checkpoint = ImportCheckpoint(checkpoint.import_id, "running", 0, 0, {})
            uow.usage_imports.save(checkpoint)
        uow.commit()
    return checkpoint


@dataclass
class _Run:
    """The state of one run: checkpoint counters and what is written with each batch."""

    uow_factory: UnitOfWorkFactory
    import_id: int
    position: int
    total: int
    imported: int
    skipped: dict[str, int]  # every reason, the counted ones too (as in the checkpoint)
    allow_skips: bool = False
    lines: dict[str, list[int]] = field(default_factory=dict)
    batches: int = 0

    def skip(self, reason: str, line: int) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if reason in COUNTED:
            return
        kept = self.lines.setdefault(reason, [])
        if len(kept) < LINES_KEPT:
            kept.append(line)

    def commit(self, rows: list[Row], consumed: int, now: datetime, done: bool) -> None:
        """The batch and the checkpoint after it, in one transaction (a key taken before counts as
        ``already-imported``). The last one ends the import ``done``, or ``incomplete`` (see the module)."""
        with self.uow_factory() as uow:
            written = uow.usage_imports.insert_entries(rows)
            if written != len(rows):
                self.skipped[ALREADY] = self.skipped.get(ALREADY, 0) + len(rows) - written
            position, imported = self.position + consumed, self.imported + written
            state = "running"
            if done:
                state = "incomplete" if problem_of(position, self.skipped, self.allow_skips) else "done"
            checkpoint = ImportCheckpoint(self.import_id, state, position, imported, dict(self.skipped))
            uow.usage_imports.save(checkpoint, finished_at=now if done else None)
            uow.commit()
        self.position += consumed
        self.imported += written
        self.batches += 1


def _pump(
    run: _Run,
    trace: Trace,
    make: RowMaker,
    batch: int,
    now: datetime,
    progress: Callable[[ImportProgress], None] | None,
) -> None:
    rows: list[Row] = []
    consumed = 0
    build, skip_type = make.row, traces.Skip
    for replay, item in trace.items(run.position, run.total):
        consumed += 1
        if isinstance(item, skip_type):
            run.skip(item.reason, item.line)
        else:
            rows.append(build(item, replay))
        if len(rows) >= batch:
            run.commit(rows, consumed, now, done=run.position + consumed >= run.total)
            rows, consumed = [], 0
            if progress:
                progress(ImportProgress(run.position, run.total, run.imported, dict(run.skipped), run.batches))
    if consumed or rows or run.position < run.total or not run.batches:
        run.commit(rows, consumed, now, done=True)
        if progress:
            progress(ImportProgress(run.position, run.total, run.imported, dict(run.skipped), run.batches))


def import_trace(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    path: str | Path,
    *,
    fmt: str,
    scenario: str,
    mapping: str | Path | dict[str, str] | None = None,
    default_project: str | int | None = None,
    resource: str | int | None = None,
    replay_until: int | None = None,
    batch: int = 10_000,
    gpus_per_processor: Fraction | float | str | None = None,
    trace_id: str | None = None,
    allow_skips: bool = False,
    progress: Callable[[ImportProgress], None] | None = None,
) -> ImportSummary:
    """Import (or resume importing) a trace into ``scenario``; see the module docstring."""
    began = time.perf_counter()
    path = Path(path)
    _check_args(path, fmt, scenario, replay_until, batch)
    if trace_id is not None and not TRACE_ID.match(trace_id):
        raise InvalidInput.on("trace_id", "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    pairs = mapping if isinstance(mapping, dict) else read_mapping(mapping) if mapping is not None else {}
    with uow_factory(write=False) as uow:
        projects: ProjectMap = resolve_mapping(
            uow, fmt, pairs, None if default_project is None else str(default_project)
        )
        res = find_resource(uow, resource)
        dialect = uow.usage_imports.dialect
    rule = billing_rule(fmt, res, gpus_per_processor)
    sha = file_sha256(path)
    ident = trace_id or traces.trace_identity(fmt, path)
    row = _start(uow_factory, clock, fmt, path, sha, scenario)
    skipped, counted = split_counts(row.skipped)
    summary = ImportSummary(
        import_id=row.import_id,
        source=fmt,
        scenario=scenario,
        sha256=sha,
        trace_id=ident,
        state=row.state,
        position=row.position,
        total=row.position,
        imported=row.imported,
        skipped=skipped,
        counted=counted,
        allow_skips=allow_skips,
        resumed_from=row.position,
    )
    if row.state == "done":
        summary.already_done = True
        summary.seconds = time.perf_counter() - began
        return summary
    now = clock.now()
    make = RowMaker(
        dialect,
        fmt=fmt,
        trace_id=ident,
        scenario=scenario,
        projects=projects,
        resource_id=res.stored_id,
        rule=rule,
        at=now,
    )
    trace = Trace.scan(path, reader_for(fmt, path), make.prepare)
    make.span_days = trace.span_days
    total = replay_until if replay_until is not None else trace.per_pass
    run = _Run(
        uow_factory, row.import_id, row.position, max(total, row.position), row.imported, dict(row.skipped), allow_skips
    )
    _pump(run, trace, make, batch, now, progress)
    return _finished(summary, run, trace, time.perf_counter() - began)


def _finished(summary: ImportSummary, run: _Run, trace: Trace, seconds: float) -> ImportSummary:
    summary.position, summary.total, summary.imported = run.position, run.total, run.imported
    summary.skipped, summary.counted = split_counts(run.skipped)
    summary.skipped_lines = run.lines
    summary.problem = problem_of(run.position, run.skipped, run.allow_skips)
    summary.state = "incomplete" if summary.problem else "done"
    summary.extra_field_lines, summary.most_fields = trace.extra_field_lines, trace.most_fields
    summary.seconds = seconds
    return summary
