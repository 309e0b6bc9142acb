"""Delivery channels for notifications (adapters of :class:`aifactory.services.notifications.Sender`):
a signed webhook and SMTP e-mail. :func:`build_senders` makes them from the settings.

Webhook receivers check ``X-Aifactory-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body with the
shared secret (``hmac.compare_digest``), and deduplicate by the payload's ``id`` (delivery is at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from email.message import EmailMessage

import httpx

from .config import Settings
from .services.notifications import Outgoing, Sender

SIGNATURE_HEADER = "X-Aifactory-Signature"
WEBHOOK_TIMEOUT = 5.0
SMTP_TIMEOUT = 10.0


class DeliveryError(Exception):
    """A channel refused or could not take a notification (the text is stored and shown to members,
    so it never carries the webhook URL or credentials)."""


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """POSTs the notification as JSON; a non-2xx answer, a timeout or a refused connection is a failure."""

    def __init__(
        self,
        url: str,
        secret: str | None,
        *,
        timeout: float = WEBHOOK_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ):
        self.url, self.secret, self.timeout, self.transport = url, secret, timeout, transport

    def send(self, out: Outgoing) -> None:
        body = json.dumps(out.payload(), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "aifactory-notify"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(body, self.secret)
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as http:
                response = http.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"webhook timed out after {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable ({type(exc).__name__})") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook answered HTTP {response.status_code}")


class SmtpSender:
    """One message per notification to the project's members, through an SMTP server."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        sender: str = "aifactory@localhost",
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        *,
        timeout: float = SMTP_TIMEOUT,
    ):
        self.host, self.port, self.sender, self.starttls = host, port, sender, starttls
        self.username, self.password, self.timeout = username, password, timeout

    def message(self, out: Outgoing) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = f"[aifactory] {out.event}: {out.project_name}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(out.recipients)
        msg["X-Aifactory-Notification"] = str(out.id)
        msg.set_content(
            f"{out.message}\n\nProject {out.project_id} ({out.project_name}), allocation "
            f"{out.allocation_id}; raised {out.created_at.isoformat()}.\n"
        )
        return msg

    def send(self, out: Outgoing) -> None:
        if not out.recipients:
            raise DeliveryError("no recipients")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(self.message(out), from_addr=self.sender, to_addrs=list(out.recipients))
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP refused: {exc}") from exc
        except OSError as exc:
            raise DeliveryError(f"SMTP server unreachable ({type(exc).__name__})") from exc


def build_senders(settings: Settings) -> dict[str, Sender | None]:
    """The configured channels; None for a channel without settings (its notifications are marked ``off``)."""
    webhook = None
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        webhook = WebhookSender(settings.webhook_url, secret)
    email = None
    if settings.smtp_host:
        email = SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_starttls,
            settings.smtp_username,
            settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
    return {"webhook": webhook, "email": email}
