"""Invitations in the tests: the e-mails delivered through the aiosmtpd sink, and the token in their link."""

from __future__ import annotations

import re

from aifactory.notify import SmtpSender
from aifactory.services.delivery import deliver_pending
from aifactory.web.mail import MailTemplates

from .api import Api
from .mail import MailSink

SITE = "https://jaif.example"
LINK = re.compile(r"https?://[^/\s]+/invitations/(inv_[A-Za-z0-9_-]+)")


def link_token(sink: MailSink, address: str) -> str:
    """The token in the link of the last e-mail to ``address``."""
    (token,) = LINK.findall(sink.to(address)[-1].text())
    return str(token)


def mailed_token(api: Api, sink: MailSink, address: str) -> str:
    """Deliver what is pending through the sink; the token of the last invitation to ``address``."""
    sender = SmtpSender("127.0.0.1", sink.port, "factory@jaif.example", render=MailTemplates("JAIF", SITE).render)
    deliver_pending(api.uow_factory, api.clock, {"webhook": None, "email": sender})
    return link_token(sink, address)
