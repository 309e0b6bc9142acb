"""Trace records as ``ledger_entries`` rows, ready for the DBAPI's ``executemany`` (the import's fast path,
written by the unit of work's ``usage_imports``).

Values are what SQLAlchemy's column types would bind (checked by the tests, which read the rows back through
the ORM): on SQLite a UTC datetime is the text ``YYYY-MM-DD HH:MM:SS.ffffff``; on PostgreSQL an aware
``datetime``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from ..domain.ledger import EntryKind
from ..usage.mapping import ProjectMap
from ..usage.traces import AlibabaPod, Skip, SwfJob

COLUMNS = (
    "project_id",
    "resource_id",
    "kind",
    "amount",
    "gpu_seconds",
    "source",
    "external_id",
    "scenario",
    "usage_start",
    "usage_end",
    "period",
    "at",
    "reason",
    "key",
)
ZERO_USAGE = "zero-usage"
UNMAPPED = "unmapped"

Row = tuple[object, ...]  # one entry's values in COLUMNS order
Head = tuple[int, int, str, int, int, str]  # project, resource, kind, amount, GPU-seconds, source
# a record made ready for rows: the head, its ident (external id), its key within the trace, and its start
# and end as (day, second of the day)
Prepared = tuple[Head, str, str, int, int, int, int]
KEY_LENGTH = 200  # ledger_entries.key


@dataclass(frozen=True)
class Rule:
    """Per unit of a record (SWF: processor-second; Alibaba: milli-GPU-second): GPUs and billing units."""

    gpu: Fraction
    billing: Fraction


def _ceil(units: int, rate: Fraction) -> int:
    return -((-units * rate.numerator) // rate.denominator)


DAY = 86400


def _day_text(day: int) -> tuple[str, str]:
    d = datetime.fromtimestamp(day * DAY, UTC)
    return f"{d:%Y-%m-%d} ", f"{d:%Y-%m}"


def _time_of_day(sec: int) -> str:
    h, rest = divmod(sec, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}.000000"


class RowMaker:
    """Records as rows in two steps, so that a replayed trace does the costly part once per record:
    ``prepare(record)`` (the project, amounts, times split into day and second of the day) gives a
    :data:`Prepared` tuple or a :class:`Skip`; ``row(prepared, replay)`` the entry's tuple in :data:`COLUMNS`
    order, its times shifted by ``replay`` × ``span_days`` whole days (set once the trace is scanned) (so
    times of day stay, and their texts and the days' are cached on SQLite)."""

    def __init__(
        self,
        dialect: str,
        *,
        fmt: str,
        trace_id: str,
        scenario: str,
        projects: ProjectMap,
        resource_id: int,
        rule: Rule,
        at: datetime,
        span_days: int = 1,
    ):
        self._sqlite = dialect == "sqlite"
        self._at: object = f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}" if self._sqlite else at.astimezone(UTC)
        self._prefix = f"{fmt}:{trace_id}:{scenario}:"
        self._fmt, self._scenario, self._projects = fmt, scenario, projects
        self._resource_id, self._rule, self.span_days = resource_id, rule, span_days
        self._kind = EntryKind.CHARGE.value
        self._days: dict[int, tuple[str, str]] = {}
        self._times: dict[int, str] = {}
        self._midnights: dict[int, datetime] = {}
        self._offsets: dict[int, timedelta] = {}
        self.row = self._sqlite_row if self._sqlite else self._aware_row

    def prepare(self, rec: SwfJob | AlibabaPod | Skip) -> Prepared | Skip:
        if isinstance(rec, Skip):
            return rec
        p = self._projects
        if isinstance(rec, SwfJob):
            project = p.first.get(rec.user) or p.second.get(rec.group) or p.default
            units = rec.processors * rec.runtime
        else:
            project = p.first.get(rec.name) or p.second.get(rec.qos) or p.default
            units = rec.num_gpu * rec.gpu_milli * rec.runtime
        if project is None:
            return Skip(UNMAPPED, rec.line)
        amount = _ceil(units, self._rule.billing)
        if amount <= 0:
            return Skip(ZERO_USAGE, rec.line)
        head = (project, self._resource_id, self._kind, amount, _ceil(units, self._rule.gpu), self._fmt)
        (d0, t0), (d1, t1) = divmod(rec.start, DAY), divmod(rec.start + rec.runtime, DAY)
        return head, rec.ident[:120], self._record_key(rec.record_key), d0, t0, d1, t1

    def _record_key(self, key: str) -> str:
        """The record's part of the entry key; hashed where the key would be too long (``:replay`` at most
        11 characters more)."""
        if len(self._prefix) + len(key) + 11 <= KEY_LENGTH:
            return key
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def _day(self, day: int) -> tuple[str, str]:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = _day_text(day)
        return found

    def _time(self, second: int) -> str:
        found = self._times.get(second)
        if found is None:
            found = self._times[second] = _time_of_day(second)
        return found

    def _aware(self, day: int, second: int) -> datetime:
        midnight, offset = self._midnights.get(day), self._offsets.get(second)
        if midnight is None:
            midnight = self._midnights[day] = datetime.fromtimestamp(day * DAY, UTC)
        if offset is None:
            offset = self._offsets[second] = timedelta(seconds=second)
        return midnight + offset

    def _sqlite_row(self, prepared: Prepared, replay: int) -> Row:
        head, ident, key, d0, t0, d1, t1 = prepared
        shift = replay * self.span_days
        day = self._days.get(d0 + shift) or self._day(d0 + shift)
        end = self._days.get(d1 + shift) or self._day(d1 + shift)
        times = self._times
        return (
            *head,
            f"{ident}#{replay}",
            self._scenario,
            day[0] + (times.get(t0) or self._time(t0)),
            end[0] + (times.get(t1) or self._time(t1)),
            end[1],
            self._at,
            "",
            f"{self._prefix}{key}:{replay}",
        )

    def _aware_row(self, prepared: Prepared, replay: int) -> Row:
        head, ident, key, d0, t0, d1, t1 = prepared
        shift = replay * self.span_days
        start, end = self._aware(d0 + shift, t0), self._aware(d1 + shift, t1)
        return (
            *head,
            f"{ident}#{replay}",
            self._scenario,
            start,
            end,
            f"{end.year:04d}-{end.month:02d}",
            self._at,
            "",
            f"{self._prefix}{key}:{replay}",
        )
