from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...services import inbox, notifications
from ..deps import Ctx, CurrentActor, IdPath, IdQuery, Paging, Uow
from ..schemas.common import Page, page_of
from ..schemas.notifications import (
    InboxItemOut,
    MarkedOut,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    UnreadOut,
)

router = APIRouter(tags=["notifications"])


@router.get("/notifications", response_model=Page[InboxItemOut], summary="Your notifications, newest first")
def list_inbox(
    actor: CurrentActor,
    uow: Uow,
    page: Paging,
    unread: Annotated[bool, Query(description="only those not read yet")] = False,
) -> dict[str, Any]:
    return page_of(inbox.inbox(uow, actor, page, unread_only=unread), InboxItemOut.of)


@router.get("/notifications/unread", response_model=UnreadOut, summary="How many of your notifications are unread")
def unread(actor: CurrentActor, uow: Uow) -> UnreadOut:
    return UnreadOut(unread=inbox.unread_count(uow, actor))


@router.post("/notifications/{notification_id}/read", response_model=InboxItemOut, summary="Mark one read")
def mark_read(notification_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> InboxItemOut:
    return InboxItemOut.of(inbox.mark_read(uow, ctx.clock, actor, notification_id))


@router.post("/notifications/read-all", response_model=MarkedOut, summary="Mark all your notifications read")
def mark_all_read(actor: CurrentActor, uow: Uow, ctx: Ctx) -> MarkedOut:
    return MarkedOut(marked=inbox.mark_all_read(uow, ctx.clock, actor))


@router.get(
    "/notifications/preferences",
    response_model=PreferencesOut,
    summary="Your e-mail language and which notifications reach you how",
)
def get_preferences(actor: CurrentActor, uow: Uow) -> PreferencesOut:
    return PreferencesOut.of(inbox.preferences(uow, actor))


@router.put("/notifications/preferences", response_model=PreferencesOut, summary="Change your preferences")
def put_preferences(body: PreferencesIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> PreferencesOut:
    channels = {topic.value: channel for topic, channel in (body.topics or {}).items()}
    return PreferencesOut.of(inbox.set_preferences(uow, ctx.clock, actor, language=body.language, channels=channels))


@router.get(
    "/notifications/outbox",
    response_model=Page[NotificationOut],
    summary="Notifications of your projects and their delivery, newest first (operators: all)",
)
def list_outbox(actor: CurrentActor, uow: Uow, page: Paging, project_id: IdQuery = None) -> dict[str, Any]:
    result = notifications.list_notifications(uow, actor, page, project_id=project_id)
    return page_of(result, NotificationOut.model_validate)
