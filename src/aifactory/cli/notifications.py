"""``aifactory notifications``: what the factory raised about your projects' allocations, and its delivery."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .output import Col, show_page
from .state import api

app = typer.Typer(help="Notifications about allocations (use thresholds, expiry, suspension).", no_args_is_help=True)

Limit = Annotated[int, typer.Option(min=1, max=200)]
Offset = Annotated[int, typer.Option(min=0)]
DELIVERY_STYLES = {"delivered": "green", "failed": "red", "pending": "yellow", "off": "dim"}


def delivery_style(value: Any) -> str | None:
    return DELIVERY_STYLES.get(str(value))


NOTIFICATION_COLS = [
    Col("ID", "id", justify="right"),
    Col("Project", "project_id", wrap=True, names="project"),
    Col("Allocation", "allocation_id", justify="right", optional=True),
    Col("Event", "event", wrap=True),
    Col("Message", "message", wrap=True),
    Col("Raised", "created_at", optional=True),
    Col("Webhook", "webhook_state", style=delivery_style),
    Col("E-mail", "email_state", style=delivery_style),
]


@app.command("list")
def list_notifications(
    project: Annotated[int | None, typer.Option("--project", help="only this project")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> None:
    """Notifications of your projects, newest first (operators: all)."""
    page = api().list_notifications(project_id=project, limit=limit, offset=offset)
    show_page(page, NOTIFICATION_COLS, title="Notifications")
