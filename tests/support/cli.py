"""The CLI as the tests run it: in-process (``typer.testing.CliRunner``), with its own config folder and a wide,
colourless terminal, optionally next to a live server whose demo accounts it can act as."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from aifactory.cli.main import app

from .demo import PEOPLE
from .live import LiveServer

OPERATOR = PEOPLE["operator"]
BAKERY = PEOPLE["anna"]
REVIEWER = PEOPLE["schulz"]


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
