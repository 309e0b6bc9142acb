"""CLI tests run the real app on a real socket: uvicorn in a background thread on 127.0.0.1, a migrated
SQLite file seeded with the demo, and the CLI (through ``typer.testing.CliRunner``) talking HTTP to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.config import Settings
from aifactory.demo import DemoInfo
from tests.support.cli import Cli
from tests.support.demo import seed_demo_sqlite
from tests.support.live import LiveServer, live_server


@pytest.fixture
def seeded_url(_sqlite_template: Path, tmp_path: Path) -> tuple[str, DemoInfo]:
    """A migrated SQLite file with the demo factory in it: (its URL, the demo's ids and tokens)."""
    seeded = seed_demo_sqlite(_sqlite_template, tmp_path / "cli.db")
    return seeded.url, seeded.info


@pytest.fixture
def live(seeded_url: tuple[str, DemoInfo], tmp_path: Path) -> Iterator[LiveServer]:
    """The real app served by uvicorn over TCP on a free port."""
    db_url, info = seeded_url
    settings = Settings(database_url=db_url, data_dir=tmp_path / "data", reconcile_seconds=0.2, gpu_slots=4)
    with live_server(settings, info) as server:
        yield server


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI without a server (local commands, errors before any request)."""
    return Cli(tmp_path / "config")


@pytest.fixture
def live_cli(live: LiveServer, tmp_path: Path) -> Cli:
    """The CLI next to a live server; ``as_=`` picks the demo account."""
    return Cli(tmp_path / "config", live)
