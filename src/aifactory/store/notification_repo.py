"""The notifications' repository: the outbox, its recipients (inbox and e-mail), people's preferences, and the
open reviews whose reminders the reconciler raises."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update

from ..domain.access import Page, PageRequest, ProjectScope
from ..domain.enums import ProposalStatus
from ..domain.notifications import InboxItem, Notification, OpenReview, Preference, Recipient
from . import tables as t
from .repositories import Repository, in_scope

N = t.notifications.c
R = t.notification_recipients.c


def _due(next_attempt_at: ColumnElement[datetime], now: datetime) -> ColumnElement[bool]:
    return or_(next_attempt_at.is_(None), next_attempt_at <= now)


class NotificationRepository(Repository[Notification]):
    entity = Notification

    def by_key(self, dedup_key: str) -> Notification | None:
        return self.session.scalar(select(Notification).where(N.dedup_key == dedup_key))

    def existing_keys(self, keys: Collection[str]) -> set[str]:
        if not keys:
            return set()
        return set(self.session.scalars(select(N.dedup_key).where(N.dedup_key.in_(list(keys)))))

    def find(self, allocation_id: int, event: str) -> Notification | None:
        return self.session.scalar(select(Notification).where(N.allocation_id == allocation_id, N.event == event))

    def events(self, allocation_id: int) -> set[str]:
        return set(self.session.scalars(select(N.event).where(N.allocation_id == allocation_id)))

    def undelivered(self, limit: int = 100) -> builtins.list[Notification]:
        stmt = (
            select(Notification)
            .where((N.webhook_state == "pending") | (N.email_state == "pending"))
            .order_by(N.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def visible(self, page: PageRequest, scope: ProjectScope, *, project_id: int | None = None) -> Page[Notification]:
        """The projects' notifications (the outbox), newest first, within the viewer's projects (operators: all)."""
        stmt = in_scope(
            select(Notification).where(N.project_id.is_not(None)).order_by(N.id.desc()), N.project_id, scope
        )
        if project_id is not None:
            stmt = stmt.where(N.project_id == project_id)
        return self._page(stmt, page)

    # -- delivery ------------------------------------------------------------------------------
    def webhook_due(self, now: datetime, limit: int) -> builtins.list[Notification]:
        stmt = (
            select(Notification)
            .where(N.webhook_state == "pending", _due(N.next_attempt_at, now))
            .order_by(N.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    def email_due(self, now: datetime, limit: int) -> builtins.list[tuple[Recipient, Notification]]:
        stmt = (
            select(Recipient, Notification)
            .join(Notification, N.id == R.notification_id)
            .where(R.email_state == "pending", _due(R.next_attempt_at, now))
            .order_by(R.id)
            .limit(limit)
        )
        return [(r, n) for r, n in self.session.execute(stmt)]

    def add_recipient(self, recipient: Recipient) -> Recipient:
        self.session.add(recipient)
        self.session.flush()
        return recipient

    def recipient(self, recipient_id: int) -> Recipient | None:
        return self.session.get(Recipient, recipient_id)

    def recipients(self, notification_id: int) -> builtins.list[Recipient]:
        stmt = select(Recipient).where(R.notification_id == notification_id).order_by(R.id)
        return list(self.session.scalars(stmt))

    # -- the inbox -----------------------------------------------------------------------------
    def inbox(self, user_id: int, page: PageRequest, *, unread_only: bool = False) -> Page[InboxItem]:
        stmt = (
            select(Notification, R.read_at)
            .join(Notification, N.id == R.notification_id)
            .where(R.user_id == user_id, R.in_inbox.is_(True))
            .order_by(R.notification_id.desc())
        )
        if unread_only:
            stmt = stmt.where(R.read_at.is_(None))
        total = self.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = self.session.execute(stmt.limit(page.limit).offset(page.offset))
        items = [InboxItem(n, read_at) for n, read_at in rows]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    def unread_count(self, user_id: int) -> int:
        """One COUNT over the partial index ``ix_notification_recipients_unread``."""
        stmt = select(func.count()).where(R.user_id == user_id, R.in_inbox.is_(True), R.read_at.is_(None))
        return int(self.session.scalar(stmt) or 0)

    def in_inbox_of(self, user_id: int, notification_id: int) -> Recipient | None:
        return self.session.scalar(
            select(Recipient).where(R.user_id == user_id, R.notification_id == notification_id, R.in_inbox.is_(True))
        )

    def mark_all_read(self, user_id: int, at: datetime) -> int:
        result = self.session.execute(
            update(t.notification_recipients)
            .where(R.user_id == user_id, R.in_inbox.is_(True), R.read_at.is_(None))
            .values(read_at=at)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # -- preferences ---------------------------------------------------------------------------
    def preferences(self, user_id: int) -> dict[str, str]:
        rows = self.session.execute(
            select(t.notification_preferences.c.topic, t.notification_preferences.c.channel).where(
                t.notification_preferences.c.user_id == user_id
            )
        )
        return {str(topic): str(channel) for topic, channel in rows}

    def channels(self, user_ids: Collection[int], topic: str) -> dict[int, str]:
        """The chosen channel of each of these users for one topic (users without a choice are left out)."""
        if not user_ids:
            return {}
        p = t.notification_preferences.c
        rows = self.session.execute(select(p.user_id, p.channel).where(p.user_id.in_(list(user_ids)), p.topic == topic))
        return {int(u): str(c) for u, c in rows}

    def set_preference(self, user_id: int, topic: str, channel: str) -> None:
        pref = self.session.get(Preference, (user_id, topic))
        if pref is None:
            self.session.add(Preference(user_id=user_id, topic=topic, channel=channel))
        else:
            pref.channel = channel
        self.session.flush()

    # -- reminders -----------------------------------------------------------------------------
    def open_reviews(self, until: date) -> builtins.list[OpenReview]:
        """Assignments without a review, of proposals under review whose decision is due by ``until``."""
        a, p, rv = t.review_assignments.c, t.proposals.c, t.reviews.c
        stmt = (
            select(a.id, a.reviewer_id, p.id, p.title, p.decision_deadline)
            .join(t.proposals, p.id == a.proposal_id)
            .outerjoin(t.reviews, and_(rv.proposal_id == a.proposal_id, rv.reviewer_id == a.reviewer_id))
            .where(
                p.status == ProposalStatus.UNDER_REVIEW.value,
                p.decision_deadline.is_not(None),
                p.decision_deadline <= until,
                rv.id.is_(None),
            )
            .order_by(a.id)
        )
        return [
            OpenReview(int(i), int(r), int(pid), str(title), d) for i, r, pid, title, d in self.session.execute(stmt)
        ]
