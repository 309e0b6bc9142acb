"""Notifications: what the factory tells people (decisions, reviews, consents, invitations, jobs, allocations),
to whom, by which channel, and what each person chose to receive.

A :class:`Notification` is one event, stored once (its ``dedup_key`` is unique) in the transaction of the change
it reports, then delivered: to the inbox and by e-mail of each :class:`Recipient`, and to the site's webhook.
Each event belongs to a :class:`Topic`; a person's :class:`Channel` per topic says e-mail (and inbox), inbox
only, or (for the opt-in topics: jobs) nothing. Mandatory e-mails (verification, password reset, invitation)
ignore the preferences, reach addresses that have no account yet, and never show in an inbox.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from .errors import InvalidInput
from .stored import Stored


class Topic(StrEnum):
    """What a person chooses channels for (one topic covers one or more events)."""

    DECISION = "decision"
    REVIEW_ASSIGNED = "review-assigned"
    REVIEW_REMINDER = "review-reminder"
    CONSENT_REQUESTED = "consent-requested"
    JOB_FINISHED = "job-finished"
    JOB_FAILED = "job-failed"
    ALLOCATION = "allocation"


class Channel(StrEnum):
    EMAIL = "email"  # the inbox and an e-mail
    INBOX = "inbox"  # the inbox only
    OFF = "off"  # nothing (opt-in topics only)


OPT_IN = frozenset({Topic.JOB_FINISHED, Topic.JOB_FAILED})
MANDATORY = frozenset({"verify-email", "password-reset", "invitation"})  # e-mail only, preferences ignored

#: event kind -> its topic (an event is its kind, or its kind and a suffix: ``threshold-80``, ``suspended-…``)
TOPICS: dict[str, Topic] = {
    "proposal-accepted": Topic.DECISION,
    "proposal-rejected": Topic.DECISION,
    "review-assigned": Topic.REVIEW_ASSIGNED,
    "reviewer-recused": Topic.REVIEW_ASSIGNED,  # to the operators, who assign another reviewer
    "review-due": Topic.REVIEW_REMINDER,
    "review-overdue": Topic.REVIEW_REMINDER,
    "consent-requested": Topic.CONSENT_REQUESTED,
    "job-finished": Topic.JOB_FINISHED,
    "job-failed": Topic.JOB_FAILED,
    "threshold": Topic.ALLOCATION,
    "exhausted": Topic.ALLOCATION,
    "suspended": Topic.ALLOCATION,
    "expiring": Topic.ALLOCATION,
    "expired": Topic.ALLOCATION,
}

#: One line per event kind, in English, with ``%(name)s`` placeholders filled from the notification's data:
#: the notification's message, the inbox's line and the e-mail's subject (the portal translates these msgids).
TEXTS: dict[str, str] = {
    "proposal-accepted": "Your proposal “%(title)s” was accepted: %(gpu_hours)s GPU-hours",
    "proposal-rejected": "Your proposal “%(title)s” was rejected",
    "review-assigned": "You were asked to review the proposal “%(title)s” (due %(deadline)s)",
    "reviewer-recused": "%(reviewer)s declared a conflict of interest on “%(title)s”: please assign another reviewer",
    "review-due": "Your review of “%(title)s” is due on %(deadline)s",
    "review-overdue": "Your review of “%(title)s” is overdue (it was due on %(deadline)s)",
    "consent-requested": "%(organization)s asks your organization to take part in the proposal “%(title)s”",
    "invitation": "%(inviter)s invites you to join %(target)s",
    "verify-email": "Confirm your e-mail address",
    "password-reset": "Reset your password",
    "job-finished": "Job %(job_id)s (%(name)s) completed",
    "job-failed": "Job %(job_id)s (%(name)s) ended: %(state)s",
    "threshold": "Project “%(project)s” has used %(percent)s%% of its %(gpu_hours)s GPU-hours",
    "exhausted": "Project “%(project)s” has used all of its %(gpu_hours)s GPU-hours",
    "suspended": "The allocation of project “%(project)s” was suspended",
    "expiring": "The allocation of project “%(project)s” ends on %(end_date)s",
    "expired": "The allocation of project “%(project)s” ended on %(end_date)s",
}

_SUFFIXED = re.compile(r"^(threshold|suspended|expiring)-.+$")


def kind_of(event: str) -> str:
    """The event's kind: ``threshold-80`` → ``threshold``, ``suspended-20260301T…`` → ``suspended``."""
    match = _SUFFIXED.match(event)
    return match.group(1) if match else event


def topic_of(event: str) -> Topic | None:
    """The topic a person's preference is read for; None for mandatory and unknown events."""
    return TOPICS.get(kind_of(event))


def default_channel(topic: Topic) -> Channel:
    return Channel.OFF if topic in OPT_IN else Channel.EMAIL


def choices(topic: Topic) -> tuple[Channel, ...]:
    """What a person may choose: e-mail or inbox only; for the opt-in topics also nothing."""
    return (Channel.EMAIL, Channel.INBOX, Channel.OFF) if topic in OPT_IN else (Channel.EMAIL, Channel.INBOX)


def check_channel(topic_name: str, channel_name: str) -> tuple[Topic, Channel]:
    """A preference as typed (``job-failed``, ``email``), or an error naming the topic."""
    try:
        topic = Topic(topic_name)
    except ValueError:
        raise InvalidInput.on("topics", f"unknown topic {topic_name!r} (topics: {', '.join(Topic)})") from None
    allowed = choices(topic)
    if channel_name not in {c.value for c in allowed}:
        raise InvalidInput.on(
            f"topics.{topic.value}", f"{channel_name!r} is not a choice (choose {', '.join(c.value for c in allowed)})"
        )
    return topic, Channel(channel_name)


def routes(event: str, chosen: Channel | None) -> tuple[bool, bool]:
    """(to the inbox, by e-mail) for one person: mandatory events by e-mail only, else their channel."""
    if event in MANDATORY:
        return False, True
    topic = topic_of(event)
    channel = chosen if chosen is not None else (default_channel(topic) if topic is not None else Channel.EMAIL)
    return channel is not Channel.OFF, channel is Channel.EMAIL


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def summary(event: str, data: Mapping[str, Any], text: str | None = None) -> str:
    """The event's line with its data filled in (a missing value shows as ``…``); ``text``: a translation of
    the English line."""
    template = text if text is not None else TEXTS.get(kind_of(event))
    if template is None:
        return event
    return template % _Blank(data)


LANGUAGES = ("en", "de")


def check_language(value: str) -> str:
    lang = (value or "").strip().lower()
    if lang not in LANGUAGES:
        raise InvalidInput.on("language", f"{value!r} is not a language of the factory ({', '.join(LANGUAGES)})")
    return lang


@dataclass(eq=False, kw_only=True)
class Notification(Stored):
    """One event. ``data`` fills its texts; ``secret`` (links with single-use tokens) is read only to render its
    e-mails and is wiped once they are settled. ``email_state`` sums up the recipients' e-mails."""

    event: str
    message: str
    created_at: datetime
    dedup_key: str
    data: dict[str, Any] | None = field(default_factory=dict)
    secret: dict[str, Any] | None = field(default=None, repr=False)
    allocation_id: int | None = None
    project_id: int | None = None
    proposal_id: int | None = None
    job_id: int | None = None
    webhook_state: str = "pending"  # pending | delivered | failed | off
    email_state: str = "pending"
    attempts: int = 0
    last_error: str = ""
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None
    id: int | None = None

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.data or {})


@dataclass(eq=False, kw_only=True)
class Recipient(Stored):
    """One person a notification is for: a user (inbox and e-mail as they chose) or, for mandatory e-mails, an
    address without an account. ``language`` is the e-mail's, fixed for addresses; users' is read at sending."""

    notification_id: int
    user_id: int | None = None
    email: str | None = None
    language: str = "en"
    in_inbox: bool = True
    read_at: datetime | None = None
    email_state: str = "pending"  # pending | delivered | failed | off
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str = ""
    sent_at: datetime | None = None
    id: int | None = None


@dataclass(eq=False, kw_only=True)
class Preference:
    user_id: int
    topic: str
    channel: str


@dataclass(frozen=True)
class InboxItem:
    """A notification as its recipient sees it."""

    notification: Notification
    read_at: datetime | None

    @property
    def id(self) -> int:
        return self.notification.stored_id


@dataclass(frozen=True)
class OpenReview:
    """A reviewer's assignment without a review yet, on a proposal under review (what reminders are for)."""

    assignment_id: int
    reviewer_id: int
    proposal_id: int
    title: str
    deadline: date


#: Backoff of a failed delivery: 30 s, 1 min, 2 min, … at most an hour; given up after MAX_ATTEMPTS.
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
MAX_ATTEMPTS = 8


def backoff_seconds(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt (1, 2, …)."""
    return int(min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, attempts - 1)))


def message_id(notification_id: int, recipient_id: int, domain: str) -> str:
    """The e-mail's Message-ID: the same for every attempt, so a receiver drops duplicates."""
    return f"<aifactory.n{notification_id}.r{recipient_id}@{domain}>"
