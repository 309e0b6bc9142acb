from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from ...domain.notifications import InboxItem, Topic, topic_of
from ...services.inbox import Preferences
from .common import In, Out


class NotificationOut(Out):
    """A project's notification (the outbox) and how far its delivery got: the webhook (``attempts``: its
    tries) and the members' e-mails summed up."""

    id: int
    project_id: int | None
    allocation_id: int | None
    event: str
    message: str
    created_at: datetime
    webhook_state: str
    email_state: str
    attempts: int
    last_error: str
    delivered_at: datetime | None


class InboxItemOut(Out):
    """One of your notifications: the event, its message (English), the values its texts are made of (``data``),
    where it leads in the portal (``path``) and when you read it."""

    id: int
    event: str
    topic: str | None
    message: str
    data: dict[str, Any]
    path: str | None
    created_at: datetime
    read: bool
    read_at: datetime | None

    @classmethod
    def of(cls, item: InboxItem) -> InboxItemOut:
        n = item.notification
        data = n.values
        path = data.get("path")
        return cls(
            id=n.stored_id,
            event=n.event,
            topic=(t.value if (t := topic_of(n.event)) is not None else None),
            message=n.message,
            data=data,
            path=path if isinstance(path, str) else None,
            created_at=n.created_at,
            read=item.read_at is not None,
            read_at=item.read_at,
        )


class UnreadOut(Out):
    unread: int


class MarkedOut(Out):
    marked: int


ChannelName = Literal["email", "inbox", "off"]


class TopicOut(Out):
    topic: str
    channel: str
    choices: list[str]
    default: str


class PreferencesOut(Out):
    """The language of your e-mails and, per topic, the channel: ``email`` (and the inbox), ``inbox`` only, or
    ``off`` (the opt-in job topics only)."""

    language: str
    topics: list[TopicOut]

    @classmethod
    def of(cls, p: Preferences) -> PreferencesOut:
        return cls(
            language=p.language,
            topics=[
                TopicOut(
                    topic=t.topic.value,
                    channel=t.channel.value,
                    choices=[c.value for c in t.choices],
                    default=t.default.value,
                )
                for t in p.topics
            ],
        )


class PreferencesIn(In):
    """What to change; what you leave out stays as it is."""

    language: Literal["en", "de"] | None = None
    topics: Annotated[dict[Topic, ChannelName], Field(max_length=len(Topic))] | None = None
