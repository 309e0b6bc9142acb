"""Notifications about allocations: raised once per event in the ledger's transaction, delivered later.

Raising is :func:`note` (use thresholds and suspension, from the ledger) and :func:`note_lifecycle`
(expiry, from a periodic pass). Delivery is :func:`deliver_pending`: it reads what is pending, calls each
channel's sender with no transaction open, then records the outcome — delivered, ``off`` (no sender
configured, or no one to write to), or a failure retried on later passes until ``max_attempts``.
Delivery is at least once: a receiver deduplicates by the payload's ``id``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from ..domain.access import Page, PageRequest
from ..domain.enums import AllocationStatus
from ..domain.notifications import Notification
from ..domain.projects import Allocation
from ..domain.stored import stored
from . import projects
from .context import Actor, found
from .ports import Clock, UnitOfWork

CHANNELS = ("webhook", "email")  # each has a ``<channel>_state`` column
EXPIRING_DAYS = 7
MAX_ERROR = 500


def note(uow: UnitOfWork, clock: Clock, alloc: Allocation, event: str, message: str) -> Notification | None:
    """Store a notification for ``event`` on ``alloc`` unless one exists (each event is raised once)."""
    if uow.notifications.find(alloc.stored_id, event) is not None:
        return None
    project_id = stored(alloc.project_id, "the allocation's project")
    return uow.notifications.add(
        Notification(
            allocation_id=alloc.stored_id, project_id=project_id, event=event, message=message, created_at=clock.now()
        )
    )


# ------------------------------------------------------------------ raising


def note_lifecycle(uow: UnitOfWork, clock: Clock, today: date | None = None) -> list[Notification]:
    """``expired`` for allocations past their end date, ``expiring-7d`` for active ones ending within
    7 days; each once per allocation. Commits; returns the notifications raised now."""
    today = today or clock.now().date()
    raised: list[Notification] = []
    for alloc in uow.allocations.all():
        event, message = _lifecycle_event(uow, alloc, today)
        if event and (n := note(uow, clock, alloc, event, message)) is not None:
            raised.append(n)
    uow.commit()
    return raised


def _lifecycle_event(uow: UnitOfWork, alloc: Allocation, today: date) -> tuple[str | None, str]:
    status = alloc.effective_status(today)
    days_left = (alloc.end_date - today).days
    if status is AllocationStatus.EXPIRED:
        name = projects.project_of(uow, alloc).name
        return "expired", f"The allocation of project {name!r} ended on {alloc.end_date.isoformat()}"
    if status is AllocationStatus.ACTIVE and 0 <= days_left <= EXPIRING_DAYS:
        name = projects.project_of(uow, alloc).name
        when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
        return "expiring-7d", f"The allocation of project {name!r} ends {when} ({alloc.end_date.isoformat()})"
    return None, ""


# ------------------------------------------------------------------ reading


def list_notifications(
    uow: UnitOfWork, actor: Actor, page: PageRequest, project_id: int | None = None
) -> Page[Notification]:
    """Newest first: members see their projects' notifications, operators all; another tenant's
    project answers 404, like the project itself."""
    if project_id is not None:
        projects.get(uow, actor, project_id)
    return uow.notifications.visible(page, actor.project_scope(), project_id=project_id)


# ------------------------------------------------------------------ delivering


@dataclass(frozen=True)
class Outgoing:
    """A notification as the senders see it: plain values, read before any sender runs."""

    id: int
    event: str
    message: str
    project_id: int
    project_name: str
    allocation_id: int
    created_at: datetime
    recipients: tuple[str, ...] = ()  # the project's members' (PI included) e-mail addresses

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "message": self.message,
            "project_id": self.project_id,
            "allocation_id": self.allocation_id,
            "created_at": self.created_at.isoformat(),
        }


class Sender(Protocol):
    """One delivery channel. ``send`` returns on success and raises on failure (its text is recorded)."""

    def send(self, out: Outgoing) -> None: ...


@dataclass
class DeliveryReport:
    """What one pass did, counted per notification and channel."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0  # gave up after max_attempts
    off: int = 0
    errors: list[str] = field(default_factory=list)


UowFactory = Callable[..., Any]


def deliver_pending(
    uow_factory: UowFactory,
    clock: Clock,
    senders: Mapping[str, Sender | None],
    *,
    max_attempts: int = 5,
    batch: int = 100,
) -> DeliveryReport:
    """One delivery pass over up to ``batch`` undelivered notifications (oldest first). ``senders`` maps
    ``webhook``/``email`` to a sender, or None where the channel is not configured (recorded ``off``)."""
    with uow_factory(write=False) as uow:
        pending = [(_outgoing(uow, n), _pending_channels(n)) for n in uow.notifications.undelivered(batch)]
    outcomes = [(out, {ch: _send(senders.get(ch), ch, out) for ch in channels}) for out, channels in pending]
    report = DeliveryReport()
    with uow_factory() as uow:
        for out, results in outcomes:
            n = uow.notifications.get(out.id)
            if n is not None:
                _record(n, results, clock.now(), max_attempts, report)
        uow.commit()
    return report


def _pending_channels(n: Notification) -> list[str]:
    return [ch for ch in CHANNELS if getattr(n, f"{ch}_state") == "pending"]


def _outgoing(uow: UnitOfWork, n: Notification) -> Outgoing:
    project = found(uow.projects.get(n.project_id), "project", n.project_id)
    emails = []
    for member in project.members:
        user = uow.users.get(member.user_id)
        if user is not None and user.active and user.email not in emails:
            emails.append(user.email)
    return Outgoing(
        id=n.stored_id,
        event=n.event,
        message=n.message,
        project_id=n.project_id,
        project_name=project.name,
        allocation_id=n.allocation_id,
        created_at=n.created_at,
        recipients=tuple(emails),
    )


def _send(sender: Sender | None, channel: str, out: Outgoing) -> str | None:
    """None when delivered, ``"off"`` when there is no sender or no one to write to, else the error."""
    if sender is None or (channel == "email" and not out.recipients):
        return "off"
    try:
        sender.send(out)
    except Exception as exc:  # noqa: BLE001 - any failure of a channel is recorded and retried
        return f"{channel}: {str(exc) or type(exc).__name__}"[:MAX_ERROR]
    return None


def _record(
    n: Notification, results: Mapping[str, str | None], now: datetime, max_attempts: int, report: DeliveryReport
) -> None:
    errors = [r for r in results.values() if r not in (None, "off")]
    tried = any(r != "off" for r in results.values())
    if tried:
        n.attempts += 1
    for channel, result in results.items():
        if getattr(n, f"{channel}_state") != "pending":
            continue  # settled meanwhile by another pass
        if result is None:
            setattr(n, f"{channel}_state", "delivered")
            n.delivered_at = now
            report.delivered += 1
        elif result == "off":
            setattr(n, f"{channel}_state", "off")
            report.off += 1
        elif n.attempts >= max_attempts:
            setattr(n, f"{channel}_state", "failed")
            report.failed += 1
        else:
            report.retrying += 1
    if errors:
        n.last_error = "; ".join(errors)[:MAX_ERROR]
        report.errors.extend(errors)
