"""The streaming trace readers: records, skip reasons with line numbers, header time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from aifactory.usage.traces import (
    ALIBABA_EPOCH,
    AlibabaPod,
    Skip,
    SwfJob,
    read_alibaba,
    read_swf,
    trace_identity,
)
from tests.support.traces import ALIBABA, EPOCH, EPOCH_2026, SWF, SWF21, crlf, cut, with_comment


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


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_a_21_field_trace_reads_every_job_and_counts_the_extra_fields(tmp_path: Path) -> None:
    items = list(read_swf(_write(tmp_path, "site.swf", SWF21)))
    assert all(isinstance(i, SwfJob) for i in items)
    jobs = [i for i in items if isinstance(i, SwfJob)]
    # decimals in fields 6 and 7 (unused) do not matter; job 3's allocation is unknown: its 16 requested
    assert [(j.job, j.submit, j.start - EPOCH_2026, j.runtime, j.processors, j.extra) for j in jobs] == [
        (1, 0, 7200, 14400, 8, 3),
        (2, 60, 60, 600, 4, 3),
        (3, 120, 120, 3600, 16, 3),
        (4, 180, 190, 86400, 2, 3),
        (5, 240, 240, 0, 8, 3),
        (6, 300, 300, 1200, 8, 3),
    ]
    assert [j.record_key for j in jobs][:2] == ["1@0", "2@60"] and jobs[0].line == 5


def test_only_the_fields_the_import_uses_are_validated(tmp_path: Path) -> None:
    std = "-1  1  1  -1  1  1  -1  -1"  # fields 11-18
    lines = [
        f"1  0  -1  100.0  8  12.75  x  8  -1  -1  {std}",  # whole decimal in a used field; text in field 7
        f"2  0  -1  100.5  8  -1  -1  8  -1  -1  {std}",  # run time 100.5: not a whole number of seconds
        f"3  0  -1  100  -1  -1  -1  n/a  -1  -1  {std}",  # allocation unknown and the request is no number
        f"4  0  -1  100  8  -1  -1  n/a  -1  -1  {std}",  # the request is not needed: read
        "5  0  -1  100  8  -1  -1  8  -1  -1  -1  1  1  -1  1  1  -1  -1  extra  fields",
    ]
    items = list(read_swf(_write(tmp_path, "x.swf", "\n".join(lines) + "\n")))
    assert [(i.job, i.runtime, i.extra) if isinstance(i, SwfJob) else i for i in items] == [
        (1, 100, 0),
        Skip("non-numeric", 2),
        Skip("non-numeric", 3),
        (4, 100, 0),
        (5, 100, 2),
    ]


def test_a_last_line_without_newline_is_read_only_when_its_standard_fields_are_whole(tmp_path: Path) -> None:
    # cut inside field 5 of job 4: truncated; cut inside the site's field 20: all 18 standard fields are there
    short = list(read_swf(_write(tmp_path, "a.swf", cut(SWF21, 4, 30))))
    assert short[-1] == Skip("truncated", 8) and len(short) == 4
    line4 = SWF21.decode().splitlines()[7]
    long = list(read_swf(_write(tmp_path, "b.swf", cut(SWF21, 4, len(line4) - 6))))
    assert isinstance(long[-1], SwfJob) and (long[-1].job, long[-1].runtime, long[-1].extra) == (4, 86400, 2)


def test_crlf_and_comments_change_nothing_but_line_numbers(tmp_path: Path) -> None:
    def jobs(data: bytes) -> list[tuple[int, int, int, int]]:
        found = read_swf(_write(tmp_path, "t.swf", data))
        return [(j.job, j.start, j.runtime, j.processors) for j in found if isinstance(j, SwfJob)]

    plain = jobs(SWF21)
    assert jobs(crlf(SWF21)) == plain and jobs(with_comment(crlf(SWF21))) == plain
    assert jobs(crlf(SWF)) == jobs(SWF)


def test_the_trace_identity_survives_copies_of_the_same_records(tmp_path: Path) -> None:
    def ident(data: bytes, fmt: str = "swf") -> str:
        return trace_identity(fmt, _write(tmp_path, "t", data))

    same = ident(SWF21)
    for copy in (with_comment(SWF21), crlf(SWF21), cut(SWF21, 4, 30), cut(SWF21, 2, 3), SWF21.replace(b"  ", b" ")):
        assert ident(copy) == same
    assert ident(SWF) != same and ident(SWF21, "alibaba") != same
    assert len(same) == 16 and int(same, 16) >= 0
    assert ident(ALIBABA.encode(), "alibaba") == ident(crlf(ALIBABA.encode()), "alibaba")


def test_alibaba_columns_by_header_crlf_and_a_cut_last_line(tmp_path: Path) -> None:
    data = (
        "scheduled_time,name,qos,num_gpu,gpu_milli,pod_phase,creation_time,deletion_time,cluster\r\n"
        "100,pod-a,LS,1,500,Running,0,1000,c1\r\n"
        "200,pod-b,BE,2,1000,Running,0,4"
    )
    items = list(read_alibaba(_write(tmp_path, "p.csv", data)))
    assert isinstance(items[0], AlibabaPod) and (items[0].name, items[0].runtime, items[0].created) == (
        "pod-a",
        900,
        "0",
    )
    assert items[1] == Skip("truncated", 3)  # its deletion time may have been cut: 4 of 400?
