"""Parsers for option values that the shell hands over as strings (comma lists, team members, files)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import typer
import yaml


class IntList(list[int]):
    """``1,2,3`` (an empty string is the empty list)."""


class StrList(list[str]):
    """``DE,FR,NL`` (an empty string is the empty list)."""


def _items(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def int_list(value: str | IntList) -> IntList:
    if isinstance(value, IntList):
        return value
    try:
        return IntList(int(part) for part in _items(value))
    except ValueError:
        raise typer.BadParameter(f"expected whole numbers separated by commas, e.g. 1,2,3; got {value!r}") from None


def str_list(value: str | StrList) -> StrList:
    return value if isinstance(value, StrList) else StrList(_items(value))


_MEMBER = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*(?P<role>.*?)\s*$")


def team_member(value: str) -> dict[str, str]:
    """``"Lars Jensen <lars@fz-nord.example> ML advisor"`` → name, email, role."""
    match = _MEMBER.match(value)
    if match is None:
        raise typer.BadParameter(f'expected "Name <email> role", got {value!r}', param_hint="'--team'")
    return match.groupdict()


def pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """``key=text`` options, repeated, as a dict."""
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected key=text, got {item!r}", param_hint=f"'{option}'")
        out[key.strip()] = text
    return out


def read_body(path: Path | None) -> dict[str, Any]:
    """A request body from a YAML or JSON file (JSON is YAML); ``{}`` without a file."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="'--file'") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} must hold a mapping of field names to values", param_hint="'--file'")
    body: dict[str, Any] = json.loads(json.dumps(data, default=str))  # YAML dates and times as ISO strings
    return body


def drop_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
