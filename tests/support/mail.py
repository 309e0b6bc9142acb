"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 keeping every message it is handed (``MailSink``), and a
free port where nothing listens (an SMTP outage)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any, cast

from aiosmtpd.controller import Controller


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        (only,) = self.recipients
        return only

    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None, "no plain-text part"
        return str(cast(EmailMessage, part).get_content()).replace("\r\n", "\n")

    def html(self) -> str | None:
        part = self.message.get_body(("html",))
        return None if part is None else cast(EmailMessage, part).get_content()


@dataclass
class MailSink:
    """Keeps what the server received; ``refuse``: answer every message with a permanent error instead."""

    messages: list[Mail] = field(default_factory=list)
    port: int = 0
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        if self.refuse:
            return "554 5.7.1 refused by the test"
        message = cast(EmailMessage, message_from_bytes(envelope.content, policy=default_policy))
        self.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.messages if address in m.recipients]

    def unique_ids(self) -> set[str]:
        """What a receiver that drops duplicates by Message-ID keeps."""
        return {str(m.message["Message-ID"]) for m in self.messages}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[MailSink]:
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    try:
        yield sink
    finally:
        controller.stop()


def deliver_to(sink: MailSink, uow_factory: Any, clock: Any, site: str = "https://jaif.example") -> None:
    """Hand every pending e-mail to the sink now (the delivery worker's pass), links built on ``site``."""
    from aifactory.notify import SmtpSender
    from aifactory.services.delivery import deliver_pending
    from aifactory.web.mail import MailTemplates

    sender = SmtpSender("127.0.0.1", sink.port, "factory@jaif.example", render=MailTemplates("JAIF", site).render)
    deliver_pending(uow_factory, clock, {"webhook": None, "email": sender})


def link_in(mail: Mail, path: str) -> str:
    """The path and query of the link to ``path`` in the e-mail's text (e.g. ``/reset-password?token=...``)."""
    import re

    match = re.search(rf"https?://[^/\s]+({re.escape(path)}\?token=[\w-]+)", mail.text())
    assert match, f"no {path} link in: {mail.text()}"
    return match.group(1)
