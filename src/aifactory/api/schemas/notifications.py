from __future__ import annotations

from datetime import datetime

from .common import Out


class NotificationOut(Out):
    """An allocation's notification and how far its delivery got, per channel."""

    id: int
    project_id: int
    allocation_id: int
    event: str
    message: str
    created_at: datetime
    webhook_state: str
    email_state: str
    attempts: int
    last_error: str
    delivered_at: datetime | None
