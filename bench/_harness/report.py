"""Output of the benches: the consoles, a timestamped log on stderr, verdicts, a progress bar, and the wrapper
that turns SIGTERM and Ctrl-C into a clean exit (servers stopped and files removed by the ``with`` blocks)."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)


class Log(Protocol):
    def __call__(self, msg: str, *, markup: bool = True) -> None: ...


def stdout_console(width_when_piped: int) -> Console:
    """The console for the figures: the terminal's width, or a fixed one when the output goes to a file."""
    return Console(width=None if sys.stdout.isatty() else width_when_piped)


def logger(name: str) -> Log:
    """``log(msg)``: ``[name HH:MM:SS] msg`` on stderr; ``markup=False`` for text that is not ours (server logs)."""

    def log(msg: str, *, markup: bool = True) -> None:
        text = msg if markup else escape(msg)
        err.print(f"[dim]\\[{name} {time.strftime('%H:%M:%S')}][/dim] {text}", highlight=False)

    return log


def verdict(ok: bool) -> str:
    return "[green]met[/green]" if ok else "[red]NOT met[/red]"


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def write_json(path: str | Path, figures: dict[str, Any], log: Log) -> None:
    Path(path).write_text(json.dumps(figures, indent=2, default=str))
    log(f"figures written to {path}")


def run_main(main: Callable[[], int], log: Log, interrupted: str) -> NoReturn:
    """Exit with ``main()``'s status. SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so that the ``with``
    blocks stop the servers and remove the files: it exits 143, Ctrl-C 130 after logging ``interrupted``."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log(interrupted)
        sys.exit(130)


def profile_top(prof: cProfile.Profile, sort: str, *restrictions: Any) -> str:
    """The table of a cProfile, sorted by ``sort`` and cut by ``restrictions`` (pstats' print_stats)."""
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats(sort).print_stats(*restrictions)
    text = buf.getvalue()
    return text[text.find("ncalls") - 2 :]
