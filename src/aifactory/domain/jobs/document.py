"""A job spec's text (YAML or JSON) turned into plain data, with bounds on everything a hostile text could blow
up: its size in bytes, its nesting depth, its number of nodes, and no YAML aliases at all (an alias bomb — a
few lines whose aliases expand into billions of nodes — is refused before anything is built).

Pure functions without I/O; the callers run them off the event loop (they cost up to a few hundred ms on a
text at the size limit).
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from ..errors import InvalidInput, TooLarge

MAX_SPEC_BYTES = 512 * 1024  # a spec's text: the largest script (200,000 characters) fits, escaped
MAX_DEPTH = 16  # the deepest legitimate spec (array.grid.<key>.[value]) is 4 levels
MAX_NODES = 50_000  # mappings, sequences and scalars together (16 grid keys x 1,000 values fit)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: ~10x faster
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _too_large(what: str) -> TooLarge:
    return TooLarge(f"spec: {what}")


def _check_size(raw: bytes) -> None:
    if len(raw) > MAX_SPEC_BYTES:
        raise _too_large(f"{len(raw):,} bytes; a job spec is at most {MAX_SPEC_BYTES:,} bytes")


def _check_yaml_events(text: str) -> None:
    """One pass over the parser's events (nothing is built): no aliases, bounded depth and node count."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise InvalidInput.on("spec", "YAML aliases (*name) are not accepted in a job spec; write the value out")
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_large(f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, _CLOSE):
            depth -= 1
        if isinstance(event, (*_OPEN, yaml.ScalarEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                raise _too_large(f"more than {MAX_NODES:,} values")


def _check_shape(data: Any) -> None:
    """Depth and node count of the parsed data, walked without recursion; numbers must be finite (NaN and
    infinities have no JSON form, so the spec could not be stored)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise _too_large(f"more than {MAX_NODES:,} values")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput.on("spec", f"{value} is not a number a job spec can hold")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        if children and depth >= MAX_DEPTH:
            raise _too_large(f"nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def _yaml(raw: bytes) -> Any:
    text = raw.decode("utf-8")
    _check_yaml_events(text)
    data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader (CSafeLoader or SafeLoader)
    _check_shape(data)
    return data


def _json(raw: bytes) -> Any:
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _too_large(f"nested deeper than {MAX_DEPTH} levels") from None
    _check_shape(data)
    return data


def load_document(raw: bytes, content_type: str) -> Any:
    """The spec's data from its text; ``content_type`` is the request's (YAML types, else JSON). Errors: 413
    for what is too large or too deep, 422 (field ``spec``) for what is not valid YAML or JSON."""
    _check_size(raw)
    is_yaml = content_type in YAML_TYPES
    try:
        return _yaml(raw) if is_yaml else _json(raw)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        where = _where(exc)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput.on("spec", f"not valid {'YAML' if is_yaml else 'JSON'}{where}: {first}") from None


def load_yaml_or_json(text: str) -> Any:
    """A spec typed into a form (YAML, of which JSON is a subset), with the same bounds."""
    return load_document(text.encode("utf-8"), YAML_TYPES[0])


def _where(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
