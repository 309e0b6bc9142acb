"""Options of a showcase job: from the command line, or from ``AIF_PARAM_<name>`` — how a catalog template hands
its parameters to a job (never inside its command). A file option may also come as a staged job input,
``AIF_INPUT_<NAME>`` (a path), which wins over ``AIF_PARAM_<name>``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _integer(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError(text)
    return int(value)


def _boolean(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


KINDS: dict[type, Callable[[str], Any]] = {int: _integer, float: float, str: str, bool: _boolean}


@dataclass(frozen=True)
class Option:
    name: str
    kind: type
    default: Any
    help: str
    is_input: bool = False  # a file that may arrive as the job input AIF_INPUT_<NAME>


def parse_options(prog: str, doc: str | None, options: list[Option], argv: list[str] | None) -> dict[str, Any]:
    """Each option from ``--name`` (wins), else (for an input) ``AIF_INPUT_<NAME>``, else ``AIF_PARAM_<name>``
    (or its upper-case spelling), else the default. Values from the environment are parsed like the command
    line ('3' and '3.0' are both 3)."""
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    for o in options:
        convert = KINDS[o.kind]
        default = o.default
        raw = os.environ.get(f"AIF_PARAM_{o.name}", os.environ.get(f"AIF_PARAM_{o.name.upper()}"))
        if o.is_input and os.environ.get(f"AIF_INPUT_{o.name.upper()}"):
            raw = os.environ[f"AIF_INPUT_{o.name.upper()}"]
        if raw not in (None, ""):
            try:
                default = convert(raw)
            except ValueError:
                parser.error(f"AIF_PARAM_{o.name}: expected {o.kind.__name__}, got {raw!r}")
        parser.add_argument(
            f"--{o.name.replace('_', '-')}",
            dest=o.name,
            type=convert,
            default=default,
            help=f"{o.help} (default: {default}; env {'AIF_INPUT_' + o.name.upper() + ' or ' if o.is_input else ''}"
            f"AIF_PARAM_{o.name})",
        )
    return vars(parser.parse_args(argv))
