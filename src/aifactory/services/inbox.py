"""A person's notifications: the inbox (newest first, read or not), the unread count every portal page shows,
marking read, and the preferences (which topics by e-mail, which in the inbox only, the opt-in job topics) and
language of their e-mails. Each person sees only their own; another's notification answers 404."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..domain.access import Page, PageRequest
from ..domain.errors import NotFound
from ..domain.notifications import (
    Channel,
    InboxItem,
    Topic,
    check_channel,
    check_language,
    choices,
    default_channel,
)
from .audit import record
from .context import Actor, found
from .ports import Clock, UnitOfWork


def inbox(uow: UnitOfWork, actor: Actor, page: PageRequest, *, unread_only: bool = False) -> Page[InboxItem]:
    return uow.notifications.inbox(actor.id, page, unread_only=unread_only)


def unread_count(uow: UnitOfWork, actor: Actor) -> int:
    return uow.notifications.unread_count(actor.id)


def mark_read(uow: UnitOfWork, clock: Clock, actor: Actor, notification_id: int) -> InboxItem:
    """Marks one of the actor's notifications read (again: no change). Not theirs: 404."""
    recipient = uow.notifications.in_inbox_of(actor.id, notification_id)
    if recipient is None:
        raise NotFound(f"notification {notification_id} not found")
    if recipient.read_at is None:
        recipient.read_at = clock.now()
    notification = found(uow.notifications.get(notification_id), "notification", notification_id)
    uow.commit()
    return InboxItem(notification, recipient.read_at)


def mark_all_read(uow: UnitOfWork, clock: Clock, actor: Actor) -> int:
    """Marks every unread notification of the actor read; returns how many."""
    marked = uow.notifications.mark_all_read(actor.id, clock.now())
    uow.commit()
    return marked


@dataclass(frozen=True)
class TopicChoice:
    topic: Topic
    channel: Channel
    choices: tuple[Channel, ...]
    default: Channel


@dataclass(frozen=True)
class Preferences:
    """The language of a person's e-mails and their channel for every topic (the default where none is set)."""

    language: str
    topics: tuple[TopicChoice, ...]

    def channel(self, topic: Topic) -> Channel:
        return next(t.channel for t in self.topics if t.topic is topic)


def preferences(uow: UnitOfWork, actor: Actor) -> Preferences:
    user = found(uow.users.get(actor.id), "user", actor.id)
    chosen = uow.notifications.preferences(actor.id)
    rows = []
    for topic in Topic:
        default = default_channel(topic)
        value = chosen.get(topic.value)
        channel = Channel(value) if value in {c.value for c in choices(topic)} else default
        rows.append(TopicChoice(topic, channel, choices(topic), default))
    return Preferences(user.language, tuple(rows))


def set_preferences(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    *,
    language: str | None = None,
    channels: Mapping[str, str] | None = None,
) -> Preferences:
    """Changes the language and the channels named (all checked before any is stored); audited."""
    lang = check_language(language) if language is not None else None
    checked = [check_channel(topic, channel) for topic, channel in (channels or {}).items()]
    before = preferences(uow, actor)
    user = found(uow.users.get(actor.id), "user", actor.id)
    if lang is not None:
        user.language = lang
    for topic, channel in checked:
        uow.notifications.set_preference(actor.id, topic.value, channel.value)
    after = preferences(uow, actor)
    if after != before:
        record(uow, clock, actor, "user.notification_preferences", user, _plain(before), _plain(after))
    uow.commit()
    return after


def _plain(p: Preferences) -> dict[str, str]:
    return {"language": p.language, **{t.topic.value: t.channel.value for t in p.topics}}
