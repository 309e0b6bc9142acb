"""``aifactory audit``: the audit log (operators)."""

from __future__ import annotations

from typing import Annotated

import typer

from .output import Col, Row, show_page
from .state import api


def _changes(e: Row) -> str:
    """Which fields the event changed; "created" or "removed" for whole records."""
    before, after = e.get("before") or {}, e.get("after") or {}
    if not before or not after:
        return "created" if after else "removed" if before else ""
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return ", ".join(keys[:8]) + (" …" if len(keys) > 8 else "")


AUDIT_COLS = [
    Col("ID", "id", justify="right"),
    Col("When", "occurred_at"),
    Col("Actor", "actor_id", justify="right"),
    Col("Action", "action"),
    Col("Entity", lambda e: f"{e['entity_type']} {e['entity_id'] or ''}".strip(), wrap=True),
    Col("Changed", _changes, wrap=True, optional=True),
]


def audit(
    entity_type: Annotated[str | None, typer.Option(help="e.g. proposal, call, project")] = None,
    entity_id: Annotated[int | None, typer.Option()] = None,
    actor: Annotated[int | None, typer.Option("--actor", help="user id of who acted")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. proposal.submitted")] = None,
    since: Annotated[str | None, typer.Option(help="from this time (ISO 8601; UTC unless an offset is given)")] = None,
    until: Annotated[str | None, typer.Option(help="before this time (ISO 8601)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Show the audit log, newest first (operators)."""
    page = api().audit(
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    show_page(page, AUDIT_COLS, title="Audit log")
