"""Delivering the outbox: one pass reads what is due (no transaction left open), hands each notification to the
webhook and each recipient's e-mail to the mail sender, then records the outcomes in one transaction.

At least once: a crash between sending and recording sends again on the next pass, with the same webhook ``id``
and the same e-mail ``Message-ID`` (``domain.notifications.message_id``), so receivers drop duplicates. A failure
is retried with backoff (``backoff_seconds``) until ``max_attempts``; a channel that cannot be reached at all
(:class:`ChannelDown`) ends that channel's turn in the pass, and what it had left waits for the same backoff, so
an SMTP outage costs one timeout per backoff period, never one per e-mail. A channel without settings is
recorded ``off``. Mandatory e-mails' secrets (links with single-use tokens) are wiped once they are settled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..domain.notifications import MAX_ATTEMPTS, Notification, Recipient, backoff_seconds
from .ports import Clock, UnitOfWork

MAX_ERROR = 500


@dataclass(frozen=True)
class Outgoing:
    """A notification as the webhook sees it: plain values, read before any sender runs."""

    id: int
    event: str
    message: str
    created_at: datetime
    about: Mapping[str, int] = field(default_factory=dict)  # project_id, allocation_id, proposal_id, job_id

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "message": self.message, **self.about} | {
            "created_at": self.created_at.isoformat()
        }


@dataclass(frozen=True)
class OutgoingMail:
    """One e-mail to one person: what the mail sender renders (``data`` includes the secret values)."""

    notification_id: int
    recipient_id: int
    event: str
    to: str
    name: str
    language: str
    message: str
    data: Mapping[str, Any]
    created_at: datetime


class ChannelDown(Exception):
    """The channel cannot be reached at all (connection refused, timed out): nothing else is tried on it in
    this pass."""


class Sender(Protocol):
    """The webhook: ``send`` returns on success and raises on failure (its text is recorded)."""

    def send(self, out: Outgoing) -> None: ...


class MailSender(Protocol):
    """E-mail: ``send_mail`` returns once the server took the message, and raises otherwise."""

    def send_mail(self, mail: OutgoingMail) -> None: ...


@dataclass
class DeliveryReport:
    """What one pass did, counted per webhook call and per e-mail."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0  # gave up after max_attempts
    off: int = 0
    deferred: int = 0  # not tried: their channel was down
    errors: list[str] = field(default_factory=list)


UowFactory = Callable[..., Any]
Outcome = str | None  # None: delivered; "off"; "deferred"; else the error


def deliver_pending(
    uow_factory: UowFactory,
    clock: Clock,
    senders: Mapping[str, Any],
    *,
    max_attempts: int = MAX_ATTEMPTS,
    batch: int = 100,
) -> DeliveryReport:
    """One pass over up to ``batch`` due webhook calls and ``batch`` due e-mails, oldest first. ``senders``
    maps ``webhook`` to a :class:`Sender` and ``email`` to a :class:`MailSender`, or None where the channel is
    not configured."""
    now = clock.now()
    with uow_factory(write=False) as uow:
        hooks = [_outgoing(n) for n in uow.notifications.webhook_due(now, batch)]
        mails = [_mail(uow, r, n) for r, n in uow.notifications.email_due(now, batch)]
    hook_results = _run(senders.get("webhook"), "webhook", hooks, lambda s, o: s.send(o))
    sendable = [m for m in mails if isinstance(m, OutgoingMail)]
    mail_results = _run(senders.get("email"), "email", sendable, lambda s, m: s.send_mail(m))
    report = DeliveryReport()
    with uow_factory() as uow:
        for out, result in hook_results:
            _record_webhook(uow, out.id, result, clock.now(), max_attempts, report)
        outcomes: list[tuple[int, Outcome]] = [(rid, "off") for rid in _unaddressed(mails)]
        outcomes += [(mail.recipient_id, result) for mail, result in mail_results]
        touched = {_record_mail(uow, rid, result, clock.now(), max_attempts, report) for rid, result in outcomes}
        for notification_id in sorted(n for n in touched if n is not None):
            _sum_up(uow, notification_id, clock.now())
        uow.commit()
    return report


def _run(sender: Any, channel: str, items: list[Any], send: Callable[[Any, Any], None]) -> list[tuple[Any, Outcome]]:
    """Each item's outcome; after a :class:`ChannelDown` the rest are ``deferred``."""
    results: list[tuple[Any, Outcome]] = []
    down = False
    for item in items:
        if sender is None:
            results.append((item, "off"))
        elif down:
            results.append((item, "deferred"))
        else:
            try:
                send(sender, item)
                results.append((item, None))
            except ChannelDown as exc:
                down = True
                results.append((item, _error(channel, exc)))
            except Exception as exc:  # noqa: BLE001 - any failure of a channel is recorded and retried
                results.append((item, _error(channel, exc)))
    return results


def _error(channel: str, exc: Exception) -> str:
    return f"{channel}: {str(exc) or type(exc).__name__}"[:MAX_ERROR]


def _outgoing(n: Notification) -> Outgoing:
    about = {k: v for k in ("project_id", "allocation_id", "proposal_id", "job_id") if (v := getattr(n, k))}
    return Outgoing(id=n.stored_id, event=n.event, message=n.message, created_at=n.created_at, about=about)


def _mail(uow: UnitOfWork, r: Recipient, n: Notification) -> OutgoingMail | int:
    """The e-mail to send, or the recipient's id when there is no one to write to (a deactivated user)."""
    if r.user_id is not None:
        user = uow.users.get(r.user_id)
        if user is None or not user.active:
            return r.stored_id
        to, name = user.email, user.name
    else:
        to, name = r.email or "", ""
    if not to:
        return r.stored_id
    return OutgoingMail(
        notification_id=n.stored_id,
        recipient_id=r.stored_id,
        event=n.event,
        to=to,
        name=name,
        language=r.language,
        message=n.message,
        data={**(n.data or {}), **(n.secret or {})},
        created_at=n.created_at,
    )


def _unaddressed(mails: list[OutgoingMail | int]) -> list[int]:
    return [m for m in mails if isinstance(m, int)]


def _record_webhook(
    uow: UnitOfWork, notification_id: int, result: Outcome, now: datetime, max_attempts: int, report: DeliveryReport
) -> None:
    n = uow.notifications.get(notification_id)
    if n is None or n.webhook_state != "pending":
        return  # settled meanwhile by another pass
    state, n.attempts, n.next_attempt_at = _settle(result, n.attempts, now, max_attempts, report)
    n.webhook_state = state
    if state == "delivered":
        n.delivered_at = now
    elif result not in (None, "off", "deferred"):
        n.last_error = str(result)


def _record_mail(
    uow: UnitOfWork, recipient_id: int, result: Outcome, now: datetime, max_attempts: int, report: DeliveryReport
) -> int | None:
    r = uow.notifications.recipient(recipient_id)
    if r is None or r.email_state != "pending":
        return None
    state, r.attempts, r.next_attempt_at = _settle(result, r.attempts, now, max_attempts, report)
    r.email_state = state
    if state == "delivered":
        r.sent_at = now
    elif result not in (None, "off", "deferred"):
        r.last_error = str(result)
    return r.notification_id


def _settle(
    result: Outcome, attempts: int, now: datetime, max_attempts: int, report: DeliveryReport
) -> tuple[str, int, datetime | None]:
    """(state, attempts, next attempt) after one outcome."""
    if result is None:
        report.delivered += 1
        return "delivered", attempts + 1, None
    if result == "off":
        report.off += 1
        return "off", attempts, None
    if result == "deferred":  # its channel was down: wait as long as the one that found it down
        report.deferred += 1
        return "pending", attempts, now + timedelta(seconds=backoff_seconds(max(attempts, 1)))
    report.errors.append(result)
    attempts += 1
    if attempts >= max_attempts:
        report.failed += 1
        return "failed", attempts, None
    report.retrying += 1
    return "pending", attempts, now + timedelta(seconds=backoff_seconds(attempts))


def _sum_up(uow: UnitOfWork, notification_id: int, now: datetime) -> None:
    """The notification's e-mail state from its recipients'; errors copied; secrets wiped once all are settled."""
    n = uow.notifications.get(notification_id)
    if n is None:
        return
    recipients = uow.notifications.recipients(notification_id)
    states = {r.email_state for r in recipients}
    errors = [r.last_error for r in recipients if r.last_error and r.email_state in ("pending", "failed")]
    if errors:
        n.last_error = "; ".join(dict.fromkeys(errors))[:MAX_ERROR]
    for state in ("pending", "failed", "delivered"):
        if state in states:
            n.email_state = state
            break
    else:
        n.email_state = "off"
    if n.email_state == "delivered" and n.delivered_at is None:
        n.delivered_at = now
    if "pending" not in states:
        n.secret = None
