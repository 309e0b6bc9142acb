"""The streaming trace readers: records, skip reasons with line numbers, header time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from aifactory.usage.traces import ALIBABA_EPOCH, AlibabaPod, Skip, SwfJob, read_alibaba, read_swf
from tests.support.traces import EPOCH


def test_swf_jobs_have_absolute_times_from_the_header_and_processors(swf_file: Path) -> None:
    items = list(read_swf(swf_file))
    jobs = [i for i in items if isinstance(i, SwfJob)]
    assert [(j.job, j.start, j.runtime, j.processors, j.user, j.group) for j in jobs] == [
        (1, EPOCH, 100, 8, 1, 1),
        (2, EPOCH + 60, 200, 4, 2, 3),  # submit 50 + wait 10; allocation unknown: the 4 requested
        (7, EPOCH + 100, 0, 8, 1, 1),  # run time 0 is a record (the import skips it as zero usage)
        (9, EPOCH + 120, 30, 2, 99, 99),
    ]
    assert jobs[0].line == 4  # comments count as lines


def test_swf_skips_every_bad_line_with_its_reason_and_line(swf_file: Path) -> None:
    skips = [(s.reason, s.line) for s in read_swf(swf_file) if isinstance(s, Skip)]
    assert skips == [
        ("unknown-runtime", 6),
        ("negative-runtime", 7),
        ("non-numeric", 8),
        ("wrong-field-count", 9),
        ("unknown-processors", 11),
        ("corrupt", 13),
        ("truncated", 14),
    ]


def test_swf_without_header_counts_from_zero_and_a_short_line_with_newline_is_a_field_count(tmp_path: Path) -> None:
    path = tmp_path / "x.swf"
    path.write_text("1 5 -1 10 1 -1 -1 1 -1 -1 1 1 1 -1 -1 1 -1 -1\n2 5 -1\n\n")
    items = list(read_swf(path))
    assert isinstance(items[0], SwfJob) and items[0].start == 5
    assert items[1] == Skip("wrong-field-count", 2) and len(items) == 2


def test_swf_reader_is_a_generator(swf_file: Path) -> None:
    gen = read_swf(swf_file)
    assert iter(gen) is gen and isinstance(next(gen), SwfJob)


def test_alibaba_pods_and_skips(alibaba_file: Path) -> None:
    items = list(read_alibaba(alibaba_file))
    pods = [
        (p.name, p.start - ALIBABA_EPOCH, p.runtime, p.num_gpu, p.gpu_milli, p.qos)
        for p in items
        if isinstance(p, AlibabaPod)
    ]
    assert pods == [
        ("pod-a", 100, 900, 1, 500, "LS"),
        ("pod-b", 200, 200, 2, 1000, "BE"),
        ("pod-c", 0, 100, 0, 0, "LS"),
    ]
    skips = [(s.reason, s.line) for s in items if isinstance(s, Skip)]
    assert skips == [("never-scheduled", 5), ("non-numeric", 6), ("wrong-field-count", 7), ("negative-runtime", 8)]


def test_the_real_traces_parse(tmp_path: Path) -> None:
    atlas = Path("/work/shared/data/swf-llnl-atlas-2006/LLNL-Atlas-2006-2.1-cln.swf")
    if not atlas.exists():
        return
    counts = Counter(type(i).__name__ if isinstance(i, SwfJob) else i.reason for i in read_swf(atlas))
    assert counts == {"SwfJob": 39_207, "unknown-processors": 4_571}  # 43,778 jobs
