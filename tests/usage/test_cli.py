"""``aifactory usage import`` on this machine's database: the summary, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from aifactory.cli.local import local_settings, local_store
from aifactory.cli.main import app
from aifactory.demo import seed_demo
from aifactory.services.ports import SystemClock
from tests.support.traces import SWF21, crlf, cut


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AIFACTORY_DATABASE_URL", raising=False)
    monkeypatch.setenv("AIFACTORY_DATA_DIR", str(tmp_path / "state"))
    with local_store(local_settings()) as uow_factory:
        seed_demo(uow_factory, SystemClock())
    return tmp_path


def _run(*args: str):
    return CliRunner().invoke(app, ["usage", "import", *args])


def test_a_missing_file_is_one_line_on_stderr(seeded: Path) -> None:
    result = _run(str(seeded / "nope.swf"), "--format", "swf", "--scenario", "x")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: 422 Invalid input: file: trace file '{seeded / 'nope.swf'}' not found"
    ]
    assert "Traceback" not in result.output


def test_an_unknown_project_in_the_map_is_one_line(seeded: Path, swf_file: Path) -> None:
    mapping = seeded / "map.csv"
    mapping.write_text("user:1,ghost\n")
    result = _run(str(swf_file), "--format", "swf", "--scenario", "x", "--map", str(mapping), "--resource", "booster")
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "error: 422 Invalid input: map (user:1): project 'ghost' not found "
        "(give its Slurm account or id)"
    )


def test_import_prints_the_summary_and_a_rerun_changes_nothing(seeded: Path, swf_file: Path) -> None:
    args = (
        str(swf_file),
        "--format",
        "swf",
        "--scenario",
        "x",
        "--default-project",
        "1",
        "--resource",
        "booster",
        "--gpus-per-processor",
        "0.25",
    )
    result = _run(*args, "--allow-skips")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Usage import" in out and "imported" in out and "done" in out
    assert "skipped: corrupt" in out and "(lines 13…)" in out and "zero usage" in out
    again = _run(*args)
    assert again.exit_code == 0 and "already done" in again.stdout


def test_json_summary(seeded: Path, alibaba_file: Path) -> None:
    import json

    result = CliRunner().invoke(
        app,
        [
            "--json",
            "usage",
            "import",
            str(alibaba_file),
            "--format",
            "alibaba",
            "--scenario",
            "pods",
            "--default-project",
            "2",
            "--resource",
            "booster",
        ],
    )
    assert result.exit_code == 1, result.output  # skips not allowed: the JSON summary, then the error
    data = json.loads(result.stdout)
    assert (data["imported"], data["state"], data["skipped"]["never-scheduled"]) == (2, "incomplete", 1)
    assert data["counted"] == {"zero-usage": 1} and data["problem"].startswith("4 of 7 records skipped")
    assert result.stderr.startswith("error: import incomplete: 4 of 7 records skipped")


SITE = ("--format", "swf", "--default-project", "1", "--resource", "booster", "--gpus-per-processor", "1/4")


def test_a_21_field_trace_exits_0_and_shows_the_extra_fields(seeded: Path) -> None:
    path = seeded / "site.swf"
    path.write_bytes(SWF21)
    result = _run(str(path), "--scenario", "site", *SITE)
    assert result.exit_code == 0, result.output
    assert "extra fields ignored" in result.stdout and "6 lines (up to 21 fields)" in result.stdout
    assert "imported" in result.stdout and result.stderr.strip() == ""


def test_skipped_records_exit_1_with_one_line_naming_reason_and_lines(seeded: Path) -> None:
    part = seeded / "part.swf"
    part.write_bytes(cut(SWF21, 4, 30))
    result = _run(str(part), "--scenario", "site", *SITE)
    assert result.exit_code == 1
    assert "skipped: truncated" in result.stdout and "(lines 8…)" in result.stdout
    assert result.stderr.strip().splitlines() == [
        "error: import incomplete: 1 of 4 records skipped (truncated 1) (first truncated at lines 8); "
        "rerun with --allow-skips to accept them"
    ]
    accepted = _run(str(part), "--scenario", "site", *SITE, "--allow-skips")
    assert accepted.exit_code == 0 and "already imported" in accepted.stdout
    full = seeded / "full.swf"
    full.write_bytes(crlf(SWF21))
    rest = _run(str(full), "--scenario", "site", *SITE)
    assert rest.exit_code == 0, rest.output
    assert [line.split() for line in rest.stdout.splitlines() if "imported" in line] == [
        ["│", "imported", "│", "2", "│"],
        ["│", "already", "imported", "│", "3", "│"],
    ]


def test_nothing_importable_exits_1_even_with_allow_skips(seeded: Path) -> None:
    path = seeded / "short.swf"
    path.write_text("1 0 -1 100 8 -1 -1 8 -1 -1 1 1 1 -1 1 1 -1\n")  # 17 fields
    result = _run(str(path), "--scenario", "short", *SITE, "--allow-skips")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: import incomplete: none of the 1 records could be imported (wrong-field-count 1) "
        "(first wrong-field-count at lines 1)"
    )
