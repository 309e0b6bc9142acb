"""Notifications about allocations (use thresholds, expiry, suspension) that the caller may see.

with AifactoryClient(url, token) as client:
    for n in client.iter_notifications(project_id=3):
        print(n["event"], n["message"], n["webhook_state"], n["email_state"])
"""

from __future__ import annotations

from collections.abc import Iterator

from .base import ClientBase, Json, Page


class NotificationsMixin(ClientBase):
    """Notifications, newest first."""

    def list_notifications(self, *, project_id: int | None = None, limit: int = 50, offset: int = 0) -> Page:
        """One page of your projects' notifications (operators: all); ``project_id`` narrows to one project."""
        return self._get_page("/notifications", project_id=project_id, limit=limit, offset=offset)

    def iter_notifications(self, *, project_id: int | None = None, page_size: int = 100) -> Iterator[Json]:
        """Every visible notification, fetched page by page."""
        return self._walk("/notifications", page_size, project_id=project_id)
