"""Notifications about an allocation (use thresholds, expiry, exhaustion, suspension): stored, then delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .stored import Stored


@dataclass(eq=False, kw_only=True)
class Notification(Stored):
    allocation_id: int
    project_id: int
    event: str  # threshold-50 | threshold-80 | threshold-95 | expired | exhausted | suspended | ...
    message: str
    created_at: datetime
    webhook_state: str = "pending"  # pending | delivered | failed | off
    email_state: str = "pending"
    attempts: int = 0
    last_error: str = ""
    delivered_at: datetime | None = None
    id: int | None = None
