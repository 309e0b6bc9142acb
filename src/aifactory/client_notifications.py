"""The notification methods of :class:`aifactory.client.AifactoryClient` (mixed in like
:class:`~aifactory.client_jobs.JobsMixin`): the allocations' notifications the caller may see.

    with AifactoryClient(url, token) as client:
        for n in client.iter_notifications(project_id=3):
            print(n["event"], n["message"], n["webhook_state"], n["email_state"])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Json, Page


class NotificationsMixin:
    """Notifications about allocations (use thresholds, expiry, suspension), newest first."""

    if TYPE_CHECKING:

        def _get(self, path: str, **params: Any) -> Any: ...
        def _walk(self, path: str, page_size: int, **params: Any) -> Iterator[Json]: ...

    def list_notifications(self, *, project_id: int | None = None, limit: int = 50, offset: int = 0) -> Page:
        """One page of your projects' notifications (operators: all); ``project_id`` narrows to one project."""
        return self._get("/notifications", project_id=project_id, limit=limit, offset=offset)

    def iter_notifications(self, *, project_id: int | None = None, page_size: int = 100) -> Iterator[Json]:
        """Every visible notification, fetched page by page."""
        return self._walk("/notifications", page_size, project_id=project_id)
