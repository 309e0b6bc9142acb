"""Imports of traces as they come from sites (tests/support/traces.py: 21 fields per line, decimals in unused
fields), copies of them (a comment added, CRLF endings, cut mid-line), and the import's outcome: every record
counted once, never twice in the ledger, and ``done`` only when nothing was skipped (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from aifactory.demo import seed_demo
from aifactory.domain.errors import InvalidInput
from aifactory.domain.ledger import LedgerEntry
from aifactory.services.usage_import import ImportSummary, import_trace
from tests.support.traces import SWF21, SWF21_LINES, crlf, cut, with_comment

TOTAL = 89_400  # billing GPU-seconds of SWF21's five jobs with usage (worked out in tests/support/traces.py)


@pytest.fixture
def world(uow_factory, clock):
    seed_demo(uow_factory, clock)
    return uow_factory, clock


def _import(world, tmp_path: Path, data: bytes, name: str = "site.swf", **kw) -> ImportSummary:
    path = tmp_path / name
    path.write_bytes(data)
    args = dict(fmt="swf", scenario="site", default_project="1", resource="booster", gpus_per_processor="1/4")
    return import_trace(world[0], world[1], path, **(args | kw))


def _ledger(world, scenario: str = "site") -> tuple[int, int]:
    """(entries, billing GPU-seconds) of the scenario."""
    with world[0](write=False) as uow:
        q = select(func.count(), func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.scenario == scenario)
        n, total = uow.session.execute(q).one()
    return n, total


def _consistent(s: ImportSummary) -> None:
    """Every record read is counted once: imported, already imported, zero usage, or skipped."""
    assert s.position == s.imported + sum(s.counted.values()) + sum(s.skipped.values())


def test_a_21_field_trace_imports_every_job_and_reports_the_extra_fields(world, tmp_path: Path) -> None:
    s = _import(world, tmp_path, SWF21)
    assert (s.state, s.problem, s.position, s.imported, s.skipped) == ("done", "", 6, 5, {})
    assert s.counted == {"zero-usage": 1}
    assert (s.extra_field_lines, s.most_fields) == (6, 21)
    assert _ledger(world) == (5, TOTAL)  # job 1's decimal average CPU time (field 6) does not drop it
    _consistent(s)


@pytest.mark.parametrize(
    "copy",
    [with_comment(SWF21), crlf(SWF21), with_comment(crlf(SWF21)), SWF21.replace(b"  ", b" ")],
    ids=["comment-added", "crlf", "comment-and-crlf", "respaced"],
)
def test_the_same_records_again_are_never_counted_twice(world, tmp_path: Path, copy: bytes) -> None:
    first = _import(world, tmp_path, SWF21)
    again = _import(world, tmp_path, copy, name="copy.swf")
    assert again.sha256 != first.sha256 and again.trace_id == first.trace_id
    assert (again.state, again.imported, again.counted) == ("done", 0, {"already-imported": 5, "zero-usage": 1})
    assert _ledger(world) == (5, TOTAL)
    _consistent(again)


def test_a_file_cut_mid_line_then_the_full_file_adds_exactly_the_missing_records(world, tmp_path: Path) -> None:
    part = _import(world, tmp_path, cut(SWF21, 4, 30), name="part.swf")
    # jobs 1-3 read; job 4's line is cut in its 5th field: truncated, not a record
    assert (part.state, part.imported, part.skipped) == ("incomplete", 3, {"truncated": 1})
    assert part.skipped_lines == {"truncated": [SWF21_LINES["job 4"]]}
    assert part.problem == "1 of 4 records skipped (truncated 1)"
    assert _ledger(world) == (3, 28_800 + 600 + 14_400)
    full = _import(world, tmp_path, with_comment(crlf(SWF21)), name="full.swf")
    assert (full.state, full.imported, full.counted) == ("done", 2, {"already-imported": 3, "zero-usage": 1})
    assert _ledger(world) == (5, TOTAL)
    _consistent(part)
    _consistent(full)


def test_a_cut_in_the_sites_fields_keeps_the_record_and_the_full_file_does_not_repeat_it(world, tmp_path: Path) -> None:
    line = SWF21.decode().splitlines()[SWF21_LINES["job 4"] - 1]
    part = _import(world, tmp_path, cut(SWF21, 4, len(line) - 6), name="part.swf")  # cut in field 20
    assert (part.state, part.imported, part.skipped) == ("done", 4, {})
    full = _import(world, tmp_path, SWF21)
    assert (full.imported, full.counted) == (1, {"already-imported": 4, "zero-usage": 1})
    assert _ledger(world) == (5, TOTAL)


def test_skips_leave_the_import_incomplete_unless_allowed_and_a_rerun_starts_again(world, tmp_path: Path) -> None:
    # only user 2 mapped, no default: jobs 1 and 3-6 (user 1) are unmapped
    s = _import(world, tmp_path, SWF21, default_project=None, mapping={"user:2": "1"})
    assert (s.state, s.imported, s.skipped) == ("incomplete", 1, {"unmapped": 5})
    assert s.skipped_lines["unmapped"] == [5, 7, 8, 9, 10]
    assert s.problem == "5 of 6 records skipped (unmapped 5)"
    # the map fixed: the same file again reads every record again, and the one imported counts as such
    again = _import(world, tmp_path, SWF21, default_project="1", mapping={"user:2": "1"})
    assert (again.resumed_from, again.state, again.imported) == (0, "done", 4)
    assert again.counted == {"already-imported": 1, "zero-usage": 1} and again.skipped == {}
    assert _ledger(world) == (5, TOTAL)
    _consistent(again)
    # accepted skips: done
    other = _import(
        world, tmp_path, SWF21, scenario="other", default_project=None, mapping={"user:2": "1"}, allow_skips=True
    )
    assert (other.state, other.imported, other.skipped, other.problem) == ("done", 1, {"unmapped": 5}, "")
    assert _import(world, tmp_path, SWF21, scenario="other", default_project=None, mapping={"user:2": "1"}).already_done


def test_an_import_that_imports_nothing_is_never_done(world, tmp_path: Path) -> None:
    # 17 fields per line (the standard's 18th missing everywhere): nothing usable, even with skips allowed
    short = b"".join(b" ".join(line.split()[:17]) + b"\n" for line in SWF21.splitlines() if not line.startswith(b";"))
    s = _import(world, tmp_path, short, allow_skips=True)
    assert (s.state, s.imported, s.skipped) == ("incomplete", 0, {"wrong-field-count": 6})
    assert s.problem == "none of the 6 records could be imported (wrong-field-count 6)"
    # every record unmapped, skips allowed: still nothing imported
    none = _import(world, tmp_path, SWF21, scenario="nobody", default_project=None, allow_skips=True)
    assert (none.state, none.problem) == ("incomplete", "none of the 6 records could be imported (unmapped 6)")
    empty = _import(world, tmp_path, b"; Version: 2.2\n; nothing else\n", name="empty.swf", scenario="e")
    assert (empty.state, empty.problem) == ("incomplete", "the file holds no job records")


def test_a_given_trace_id_joins_the_parts_of_a_trace_split_into_files(world, tmp_path: Path) -> None:
    lines = SWF21.splitlines(keepends=True)
    header, jobs = lines[:4], lines[4:]
    one = b"".join(header + jobs[:4])  # jobs 1-4
    two = b"".join(header + jobs[3:])  # jobs 4-6: job 4 in both parts
    a = _import(world, tmp_path, one, name="a.swf", trace_id="site-2026")
    b = _import(world, tmp_path, two, name="b.swf", trace_id="site-2026")
    assert (a.imported, b.imported, b.counted) == (4, 1, {"already-imported": 1, "zero-usage": 1})
    assert _ledger(world) == (5, TOTAL)
    with pytest.raises(InvalidInput, match="trace_id"):
        _import(world, tmp_path, one, trace_id="no spaces/slashes")
