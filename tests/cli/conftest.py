"""CLI tests run the real app on a real socket: uvicorn in a background thread on 127.0.0.1, a migrated
SQLite file seeded with the demo, and the CLI (through ``typer.testing.CliRunner``) talking HTTP to it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner, Result

from aifactory.api.app import create_app
from aifactory.cli.main import app
from aifactory.config import Settings
from aifactory.demo import DemoInfo, seed_demo
from aifactory.services.ports import SystemClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory

from .. import dbs

OPERATOR = "operator@jaif.example"
BAKERY = "anna@backhaus-kiel.example"
REVIEWER = "rev.schulz@uni-bonn.example"


@dataclass
class LiveServer:
    url: str
    info: DemoInfo
    thread: threading.Thread
    server: uvicorn.Server = field(repr=False)

    def token(self, email: str) -> str:
        return self.info.tokens[email]


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def seeded_url(_sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, DemoInfo]]:
    """A migrated SQLite file with the demo factory in it."""
    url = dbs.fresh_sqlite(_sqlite_template, tmp_path / "cli.db")
    engine = make_engine(url)
    info = seed_demo(SqlUnitOfWorkFactory(make_session_factory(engine)), SystemClock())
    engine.dispose()
    yield url, info


@pytest.fixture
def live(seeded_url: tuple[str, DemoInfo], tmp_path: Path) -> Iterator[LiveServer]:
    """The real app served by uvicorn over TCP on a free port."""
    db_url, info = seeded_url
    server, thread, url = _serve(
        Settings(database_url=db_url, data_dir=tmp_path / "data", reconcile_seconds=0.2, gpu_slots=4)
    )
    yield LiveServer(url=url, info=info, thread=thread, server=server)
    server.should_exit = True
    thread.join(timeout=10)


class Cli:
    """Runs ``aifactory`` in-process with its own config folder and a wide, colourless terminal."""

    def __init__(self, config_dir: Path, live: LiveServer | None = None):
        self.config_dir, self.live = config_dir, live
        self.runner = CliRunner()
        self.env: dict[str, str | None] = {
            "AIFACTORY_CONFIG_DIR": str(config_dir),
            "AIFACTORY_URL": None,
            "AIFACTORY_TOKEN": None,
            "AIFACTORY_DEBUG": None,
            "AIFACTORY_RETRIES": "0",
            "COLUMNS": "200",
            "NO_COLOR": "1",
        }

    def __call__(self, *args: Any, as_: str | None = None, code: int = 0, **env: str | None) -> Result:
        """Run with ``args``; ``as_`` names a demo account whose token is passed through AIFACTORY_TOKEN.
        Asserts the exit code (0 unless told) and that no traceback was printed."""
        extra: dict[str, str | None] = dict(env)
        if as_ is not None:
            assert self.live is not None
            extra |= {"AIFACTORY_URL": self.live.url, "AIFACTORY_TOKEN": self.live.token(as_)}
        result = self.runner.invoke(app, [str(a) for a in args], env=self.env | extra)
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        assert "Traceback" not in result.output
        return result

    def json(self, *args: Any, as_: str | None = None, **env: str | None) -> Any:
        return json.loads(self("--json", *args, as_=as_, **env).stdout)

    def fails(self, *args: Any, as_: str | None = None, code: int = 1, **env: str | None) -> str:
        """The one-line error of a failing command (exit code 1: stderr holds exactly one line)."""
        result = self(*args, as_=as_, code=code, **env)
        lines = result.stderr.strip().splitlines()
        if code == 1:
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
            assert result.stdout == ""
        return result.stderr.strip()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI without a server (local commands, errors before any request)."""
    return Cli(tmp_path / "config")


@pytest.fixture
def live_cli(live: LiveServer, tmp_path: Path) -> Cli:
    """The CLI next to a live server; ``as_=`` picks the demo account."""
    return Cli(tmp_path / "config", live)
