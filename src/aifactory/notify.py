"""Delivery channels for notifications (adapters of :mod:`aifactory.services.delivery`): a signed webhook and SMTP
e-mail. :func:`build_senders` makes them from the settings.

Webhook receivers check ``X-Aifactory-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body with the
shared secret (``hmac.compare_digest``), and deduplicate by the payload's ``id`` (delivery is at least once).
E-mails go one per person, in their language, rendered from the portal's e-mail templates
(``aifactory.web.mail``); each carries a ``Message-ID`` derived from the notification and the recipient, the
same on every attempt, so a receiver drops duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

import httpx

from .config import Settings
from .domain.notifications import message_id
from .services.delivery import ChannelDown, Outgoing, OutgoingMail

SIGNATURE_HEADER = "X-Aifactory-Signature"
WEBHOOK_TIMEOUT = 5.0
SMTP_TIMEOUT = 10.0
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


class DeliveryError(Exception):
    """A channel refused or could not take a notification (the text is stored and shown to members,
    so it never carries the webhook URL or credentials)."""


class ChannelUnreachable(DeliveryError, ChannelDown):
    """The channel's server cannot be reached at all: the pass stops using it."""


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
            raise ChannelUnreachable(f"webhook timed out after {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise ChannelUnreachable(f"webhook unreachable ({type(exc).__name__})") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook answered HTTP {response.status_code}")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None = None


Renderer = Callable[[OutgoingMail], RenderedMail]


def plain_renderer(mail: OutgoingMail) -> RenderedMail:
    """The notification's own message, in English (tests and scripts without the portal's templates)."""
    return RenderedMail(subject=f"[aifactory] {mail.event}", text=f"{mail.message}\n")


class SmtpSender:
    """One message per notification and person, through an SMTP server."""

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
        render: Renderer = plain_renderer,
        sender_name: str = "",
    ):
        self.host, self.port, self.sender, self.starttls = host, port, sender, starttls
        self.username, self.password, self.timeout = username, password, timeout
        self.render, self.sender_name = render, sender_name

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2] or "localhost"

    def message(self, mail: OutgoingMail) -> EmailMessage:
        rendered = self.render(mail)
        msg = EmailMessage()
        msg["Subject"] = " ".join(rendered.subject.split())[:200]
        msg["From"] = formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender
        msg["To"] = formataddr((" ".join(mail.name.split()), mail.to)) if mail.name else mail.to
        msg["Date"] = formatdate(mail.created_at.timestamp(), usegmt=True)
        msg["Message-ID"] = message_id(mail.notification_id, mail.recipient_id, self.domain)
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Aifactory-Notification"] = str(mail.notification_id)
        msg["X-Aifactory-Event"] = mail.event
        msg.set_content(rendered.text)
        if rendered.html is not None:
            msg.add_alternative(rendered.html, subtype="html")
        msg["Content-Language"] = mail.language  # after the body: making it multipart moves Content-* headers
        return msg

    def send_mail(self, mail: OutgoingMail) -> None:
        message = self.message(mail)  # a template error is this e-mail's failure, before any connection
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message, from_addr=self.sender, to_addrs=[mail.to])
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused the recipient: {exc}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise ChannelUnreachable(f"SMTP server unreachable ({type(exc).__name__})") from exc
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP refused: {exc}") from exc
        except OSError as exc:
            raise ChannelUnreachable(f"SMTP server unreachable ({type(exc).__name__})") from exc


def build_senders(settings: Settings) -> dict[str, Any]:
    """The configured channels; None for a channel without settings (its deliveries are recorded ``off``)."""
    webhook = None
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        webhook = WebhookSender(settings.webhook_url, secret)
    email = None
    if settings.smtp_host:
        from .web.mail import MailTemplates  # the portal's templates and translations (imported on use)

        templates = MailTemplates(settings.site_name, settings.public_url or DEFAULT_PUBLIC_URL, settings.smtp_html)
        email = SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_starttls,
            settings.smtp_username,
            settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            render=templates.render,
            sender_name=settings.site_name,
        )
    return {"webhook": webhook, "email": email}
