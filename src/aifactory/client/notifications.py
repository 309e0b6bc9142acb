"""Your notifications (the inbox), your preferences, and your projects' notifications with their delivery.

with AifactoryClient(url, token) as client:
    for n in client.iter_notifications(unread=True):
        print(n["event"], n["message"])
    client.mark_all_notifications_read()
    client.set_notification_preferences(language="de", topics={"job-failed": "email"})
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .base import ClientBase, Json, Page, without_none


class NotificationsMixin(ClientBase):
    """The inbox, newest first; preferences; the projects' outbox."""

    def list_notifications(self, *, unread: bool = False, limit: int = 50, offset: int = 0) -> Page:
        """One page of your notifications; ``unread``: only those not read yet."""
        return self._get_page("/notifications", unread=unread or None, limit=limit, offset=offset)

    def iter_notifications(self, *, unread: bool = False, page_size: int = 100) -> Iterator[Json]:
        """Every notification of yours, fetched page by page."""
        return self._walk("/notifications", page_size, unread=unread or None)

    def unread_notifications(self) -> int:
        return int(self._get("/notifications/unread")["unread"])

    def mark_notification_read(self, notification_id: int) -> Json:
        return self._call("POST", f"/notifications/{notification_id}/read")

    def mark_all_notifications_read(self) -> int:
        """Marks every unread notification read; returns how many."""
        return int(self._call("POST", "/notifications/read-all")["marked"])

    def notification_preferences(self) -> Json:
        """Your e-mail language and, per topic, the channel, its choices and its default."""
        return self._get("/notifications/preferences")

    def set_notification_preferences(
        self, *, language: str | None = None, topics: Mapping[str, str] | None = None
    ) -> Json:
        """Changes the language and the channels of the topics named (``{"job-failed": "email"}``)."""
        body = without_none(language=language, topics=dict(topics) if topics else None)
        return self._call("PUT", "/notifications/preferences", body)

    def list_outbox(self, *, project_id: int | None = None, limit: int = 50, offset: int = 0) -> Page:
        """One page of your projects' notifications and their delivery (operators: all)."""
        return self._get_page("/notifications/outbox", project_id=project_id, limit=limit, offset=offset)

    def iter_outbox(self, *, project_id: int | None = None, page_size: int = 100) -> Iterator[Json]:
        return self._walk("/notifications/outbox", page_size, project_id=project_id)
