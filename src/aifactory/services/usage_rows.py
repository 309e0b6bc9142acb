"""Trace records as ``ledger_entries`` rows, ready for the DBAPI's ``executemany`` (the import's fast path).

Values are what SQLAlchemy's column types would bind (checked by the tests, which read the rows back through
the ORM): on SQLite a UTC datetime is the text ``YYYY-MM-DD HH:MM:SS.ffffff``; on PostgreSQL an aware
``datetime``.
"""

from __future__ import annotations

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
    ``prepare(record)`` (the project, amounts, times split into day and time of day) gives a prepared tuple
    or a :class:`Skip`; ``row(prepared, replay)`` the entry's tuple in :data:`COLUMNS` order, its times
    shifted by ``replay`` × ``span_days`` whole days (set once the trace is scanned) (so times of day, and the
    day texts cached, stay)."""

    def __init__(
        self,
        dialect: str,
        *,
        fmt: str,
        sha: str,
        scenario: str,
        projects: ProjectMap,
        resource_id: int,
        rule: Rule,
        at: datetime,
        span_days: int = 1,
    ):
        self._sqlite = dialect == "sqlite"
        self._at: object = f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}" if self._sqlite else at.astimezone(UTC)
        self._prefix = f"{fmt}:{sha[:12]}:{scenario}:"
        self._fmt, self._scenario, self._projects = fmt, scenario, projects
        self._resource_id, self._rule, self.span_days = resource_id, rule, span_days
        self._kind = EntryKind.CHARGE.value
        self._days: dict[int, tuple[str, str]] = {}
        self.row = self._sqlite_row if self._sqlite else self._aware_row

    def prepare(self, rec: SwfJob | AlibabaPod | Skip) -> tuple | Skip:
        if type(rec) is Skip:
            return rec
        p = self._projects
        if type(rec) is SwfJob:
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
        end = rec.start + rec.runtime
        if self._sqlite:
            (d0, t0), (d1, t1) = divmod(rec.start, DAY), divmod(end, DAY)
            return head, rec.ident, d0, _time_of_day(t0), d1, _time_of_day(t1)
        return head, rec.ident, datetime.fromtimestamp(rec.start, UTC), datetime.fromtimestamp(end, UTC)

    def _day(self, day: int) -> tuple[str, str]:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = _day_text(day)
        return found

    def _sqlite_row(self, prepared: tuple, replay: int) -> tuple:
        head, ident, d0, t0, d1, t1 = prepared
        shift = replay * self.span_days
        day = self._days.get(d0 + shift) or self._day(d0 + shift)
        end = self._days.get(d1 + shift) or self._day(d1 + shift)
        return (
            *head,
            f"{ident}#{replay}",
            self._scenario,
            day[0] + t0,
            end[0] + t1,
            end[1],
            self._at,
            "",
            f"{self._prefix}{ident}:{replay}",
        )

    def _aware_row(self, prepared: tuple, replay: int) -> tuple:
        head, ident, start, end = prepared
        if replay:
            shift = timedelta(days=replay * self.span_days)
            start, end = start + shift, end + shift
        return (
            *head,
            f"{ident}#{replay}",
            self._scenario,
            start,
            end,
            f"{end.year:04d}-{end.month:02d}",
            self._at,
            "",
            f"{self._prefix}{ident}:{replay}",
        )
