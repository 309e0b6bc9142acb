"""The factory's own files are closed to job identities: `aifactory serve` runs with umask 077, the data folder
and the jobs root are 0711 (traversable, not listable), the logs folder 0700 and the SQLite files 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aifactory.cli import local
from aifactory.config import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_starts_with_umask_077_and_private_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("AIFACTORY_DATA_DIR", str(data))
    monkeypatch.delenv("AIFACTORY_DATABASE_URL", raising=False)
    seen: dict[str, int] = {}

    def fake_server(settings: Settings, host: str, port: int) -> None:
        current = os.umask(0o077)
        seen["umask"] = current
        (settings.jobs_root / "1").mkdir()  # what the server makes from now on

    monkeypatch.setattr(local, "run_server", fake_server)
    before = os.umask(0o022)
    try:
        local.serve("127.0.0.1", 8000)
    finally:
        os.umask(before)
    assert seen["umask"] == 0o077
    assert mode(data) == 0o711 and mode(data / "jobs") == 0o711 and mode(data / "logs") == 0o700
    assert mode(data / "aifactory.db") == 0o600
    assert mode(data / "jobs" / "1") == 0o700  # a job folder is nobody else's until it is given to its owner


def test_ensure_dirs_closes_what_an_older_version_left_open(tmp_path: Path) -> None:
    data = tmp_path / "old"
    (data / "jobs").mkdir(parents=True)
    (data / "logs").mkdir()
    for path in (data, data / "jobs", data / "logs"):
        path.chmod(0o755)
    for name in ("aifactory.db", "aifactory.db-wal"):
        (data / name).write_text("")
        (data / name).chmod(0o644)
    Settings(data_dir=data).ensure_dirs()
    assert (mode(data), mode(data / "jobs"), mode(data / "logs")) == (0o711, 0o711, 0o700)
    assert mode(data / "aifactory.db") == mode(data / "aifactory.db-wal") == 0o600
