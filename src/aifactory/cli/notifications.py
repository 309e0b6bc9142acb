"""``aifactory notifications``: your notifications (list, read), your preferences (``prefs``), and your projects'
notifications with their delivery (``outbox``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .output import Col, done, emit, note, show_page, table
from .params import pairs
from .state import api

app = typer.Typer(
    help="Your notifications (decisions, reviews, jobs, allocations) and how they reach you.", no_args_is_help=True
)

Limit = Annotated[int, typer.Option(min=1, max=200)]
Offset = Annotated[int, typer.Option(min=0)]
DELIVERY_STYLES = {"delivered": "green", "failed": "red", "pending": "yellow", "off": "dim"}


def delivery_style(value: Any) -> str | None:
    return DELIVERY_STYLES.get(str(value))


INBOX_COLS = [
    Col("ID", "id", justify="right"),
    Col("Event", "event"),
    Col("Message", "message", wrap=True),
    Col("Raised", "created_at", optional=True),
    Col("Read", "read", style=lambda v: "dim" if v else "bold"),
]

OUTBOX_COLS = [
    Col("ID", "id", justify="right"),
    Col("Project", "project_id", wrap=True, names="project"),
    Col("Allocation", "allocation_id", justify="right", optional=True),
    Col("Event", "event", wrap=True),
    Col("Message", "message", wrap=True),
    Col("Raised", "created_at", optional=True),
    Col("Webhook", "webhook_state", style=delivery_style),
    Col("E-mail", "email_state", style=delivery_style),
]

PREF_COLS = [
    Col("Topic", "topic"),
    Col("Channel", "channel", style=lambda v: "green" if v == "email" else ("dim" if v == "off" else None)),
    Col("Choices", lambda t: ", ".join(t["choices"])),
    Col("Default", "default", optional=True),
]


@app.command("list")
def list_notifications(
    unread: Annotated[bool, typer.Option("--unread", help="only those not read yet")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> None:
    """Your notifications, newest first."""
    page = api().list_notifications(unread=unread, limit=limit, offset=offset)
    show_page(page, INBOX_COLS, title="Notifications")


@app.command("read")
def read(
    ids: Annotated[list[int] | None, typer.Argument(help="notification ids", min=1, show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="every unread notification")] = False,
) -> None:
    """Mark notifications read: the ones named, or all of them."""
    if all_ == bool(ids):
        raise typer.BadParameter("name notification ids, or --all")
    if all_:
        marked = api().mark_all_notifications_read()
        done({"marked": marked}, f"{marked} notification{'s' if marked != 1 else ''} marked read")
        return
    items = [api().mark_notification_read(i) for i in ids or []]
    done(items, f"marked read: {', '.join(str(i['id']) for i in items)}")


@app.command("prefs")
def prefs(
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="TOPIC=CHANNEL", help="e.g. decision=inbox, job-failed=email (repeatable)"),
    ] = None,
    language: Annotated[str | None, typer.Option(help="the language of your e-mails: en or de")] = None,
) -> None:
    """Show your preferences, or change them: per topic e-mail (and the inbox), inbox only, or off (job topics)."""
    topics = pairs(set_, "--set")
    if topics or language is not None:
        answer = api().set_notification_preferences(language=language, topics=topics)
    else:
        answer = api().notification_preferences()
    emit(answer, table(answer["topics"], PREF_COLS, title=f"Notifications (e-mails in {answer['language']})"))
    if not topics and language is None:
        note("change with --set TOPIC=CHANNEL and --language en|de", style="dim")


@app.command("outbox")
def outbox(
    project: Annotated[int | None, typer.Option("--project", help="only this project")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> None:
    """Your projects' notifications and how far their delivery got, newest first (operators: all)."""
    page = api().list_outbox(project_id=project, limit=limit, offset=offset)
    show_page(page, OUTBOX_COLS, title="Notifications of your projects")
