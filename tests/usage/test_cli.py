"""``aifactory usage import`` on this machine's database: the summary, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from aifactory.cli.local import local_settings, local_store
from aifactory.cli.main import app
from aifactory.demo import seed_demo
from aifactory.services.ports import SystemClock


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
    result = _run(*args)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Usage import" in out and "imported" in out
    assert "skipped: corrupt" in out and "(lines 13…)" in out and "skipped: zero-usage" in out
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
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["imported"], data["state"], data["skipped"]["never-scheduled"]) == (2, "done", 1)
