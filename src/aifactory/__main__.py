"""``python -m aifactory``: the CLI."""

from .cli.main import app

app(prog_name="aifactory")
