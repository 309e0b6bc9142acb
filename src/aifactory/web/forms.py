"""Reading posted forms and turning domain errors into messages next to their fields."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ..domain.errors import DomainError

MAX_FIELDS = 500
MAX_TEXT = 100_000


async def read_form(request: Request) -> dict[str, str]:
    """Single-valued text fields (the last value wins), each cut at MAX_TEXT characters; files are refused."""
    form = await request.form(max_fields=MAX_FIELDS, max_files=0)
    return {k: v[:MAX_TEXT] for k, v in form.items() if isinstance(v, str)}


async def read_multi(request: Request, name: str) -> list[str]:
    form = await request.form(max_fields=MAX_FIELDS, max_files=0)
    return [v for v in form.getlist(name) if isinstance(v, str)]


def field_errors(
    exc: DomainError, known: set[str] | None = None, aliases: dict[str, str] | None = None
) -> dict[str, str]:
    """{form field: message}; errors on fields the form does not show go under ``_`` (shown on top)."""
    out: dict[str, str] = {}
    for err in exc.errors:
        name = (aliases or {}).get(err.field, err.field)
        key = name if known is None or name in known else "_"
        out[key] = f"{out[key]}; {err.message}" if key in out else err.message
    if not exc.errors or "_" in out and known is not None:
        out["_"] = str(exc)
    return out


def as_int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default
