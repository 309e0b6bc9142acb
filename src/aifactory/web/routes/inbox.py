"""The inbox (a signed-in person's notifications, newest first: mark one or all read) and the notification
settings (the language of e-mails; per topic e-mail, inbox only, or off for the opt-in job topics), on
``services.inbox``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import DomainError
from ...domain.notifications import InboxItem, Topic
from ...services import inbox
from ..forms import field_errors, read_form
from ..mail import line
from ..render import redirect, render
from ..viewer import SignedIn, SignedInChecked, Viewer
from .operator import page_request, pager

router = APIRouter()
PAGE = 25


def _item(viewer: Viewer, item: InboxItem) -> dict[str, Any]:
    n = item.notification
    data = n.values
    path = data.get("path")
    return {
        "id": n.stored_id,
        "line": line(viewer.t, n.event, data, n.message),
        "reason": data.get("reason"),
        "path": path if isinstance(path, str) and path.startswith("/") and not path.startswith("//") else None,
        "created_at": n.created_at,
        "unread": item.read_at is None,
    }


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, viewer: SignedIn, offset: str | None = None, unread: str | None = None) -> Response:
    only_unread = unread == "1"
    with viewer.ctx.uow_factory(write=False) as uow:
        page = inbox.inbox(uow, viewer.actor, page_request(offset, PAGE), unread_only=only_unread)
    items = [_item(viewer, i) for i in page.items]
    return render(
        request, viewer, "inbox/list.html", items=items, pages=pager(page), only_unread=only_unread, total=page.total
    )


@router.post("/inbox/{notification_id:int}/read")
async def read_one(request: Request, viewer: SignedInChecked, notification_id: int) -> Response:
    form = await read_form(request)
    with viewer.ctx.uow_factory(write=True) as uow:
        item = inbox.mark_read(uow, viewer.ctx.clock, viewer.actor, notification_id)
    target = _item(viewer, item)["path"] if form.get("open") == "1" else None
    return redirect(viewer, target or "/inbox", htmx=bool(request.headers.get("hx-request")))


@router.post("/inbox/read-all")
async def read_all(request: Request, viewer: SignedInChecked) -> Response:
    with viewer.ctx.uow_factory(write=True) as uow:
        marked = inbox.mark_all_read(uow, viewer.ctx.clock, viewer.actor)
    text = viewer.t.gettext("Notifications marked read: %(num)s.", num=marked)
    return redirect(viewer, "/inbox", text)


# ------------------------------------------------------------------ settings


def _settings_page(
    request: Request, viewer: Viewer, *, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        prefs = inbox.preferences(uow, viewer.actor)
    rows = [
        {"topic": t.topic.value, "channel": t.channel.value, "choices": [c.value for c in t.choices]}
        for t in prefs.topics
    ]
    return render(
        request,
        viewer,
        "inbox/settings.html",
        status=status,
        rows=rows,
        language=prefs.language,
        errors=errors or {},
    )


@router.get("/settings/notifications", response_class=HTMLResponse)
def settings_page(request: Request, viewer: SignedIn) -> Response:
    return _settings_page(request, viewer)


@router.post("/settings/notifications", response_class=HTMLResponse)
async def save_settings(request: Request, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    channels = {t.value: form[f"topic-{t.value}"] for t in Topic if f"topic-{t.value}" in form}
    language = form.get("language") or None
    try:
        with viewer.ctx.uow_factory(write=True) as uow:
            inbox.set_preferences(uow, viewer.ctx.clock, viewer.actor, language=language, channels=channels)
    except DomainError as exc:
        aliases = {f"topics.{t.value}": f"topic-{t.value}" for t in Topic}
        errors = field_errors(exc, {"language", *aliases.values()}, aliases)
        return _settings_page(request, viewer, status=exc.status, errors=errors)
    return redirect(viewer, "/settings/notifications", viewer.t.gettext("Your notification settings are saved."))
