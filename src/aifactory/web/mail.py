"""Notifications in people's words: the line the inbox shows and the e-mails (plain text and HTML), in the
person's language, from the templates in ``templates/email/`` (``.txt`` unescaped, ``.html`` autoescaped). The
English lines are ``domain.notifications.TEXTS``; their German translations are in ``locale/de`` like every
other string of the portal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape

from ..domain.notifications import MANDATORY, TEXTS, kind_of, summary
from ..notify import RenderedMail
from ..services.delivery import OutgoingMail
from .formats import date_text
from .i18n import Translator
from .reasons_text import reason_text


def line(t: Translator, event: str, data: Mapping[str, Any], fallback: str) -> str:
    """The event's line in the translator's language (an event without a line of its own: ``fallback``)."""
    english = TEXTS.get(kind_of(event))
    if english is None:
        return fallback
    return summary(event, data, t.gettext(english))


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("aifactory.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


def template_name(event: str) -> str:
    """The mandatory e-mails have their own text; every other event uses the one for notifications."""
    return event if event in MANDATORY else "notification"


def _day(text: str, lang: str) -> str:
    try:
        return date_text(date.fromisoformat(text), lang)
    except ValueError:
        return text


class MailTemplates:
    """Renders :class:`OutgoingMail` for the SMTP sender: the site's name and public address go into every
    e-mail; ``html``: whether an HTML part goes beside the plain text."""

    def __init__(self, site_name: str, public_url: str, html: bool = True):
        self.site_name, self.public_url, self.html = site_name, public_url.rstrip("/"), html

    def context(self, mail: OutgoingMail) -> dict[str, Any]:
        t = Translator(mail.language if mail.language in ("en", "de") else "en")
        data = dict(mail.data)
        path = data.get("path")
        if isinstance(data.get("expires"), str):  # a day (ISO) in the person's style
            data["expires"] = _day(data["expires"], t.lang)
        return {
            "_": t.gettext,
            "lang": t.lang,
            "site_name": self.site_name,
            "name": mail.name,
            "line": line(t, mail.event, data, mail.message),
            "reason": reason_text(data["reason"], t.gettext, t.lang) if data.get("reason") else None,
            "link": f"{self.public_url}{path}" if isinstance(path, str) and path.startswith("/") else None,
            "inbox": f"{self.public_url}/inbox",
            "settings": f"{self.public_url}/settings/notifications",
            "mandatory": mail.event in MANDATORY,
            "data": data,
        }

    def render(self, mail: OutgoingMail) -> RenderedMail:
        context = self.context(mail)
        name = template_name(mail.event)
        env = environment()
        text = env.get_template(f"email/{name}.txt").render(context)
        html = None
        if self.html:
            try:
                html = env.get_template(f"email/{name}.html").render(context)
            except TemplateNotFound:
                html = None
        return RenderedMail(subject=f"[{self.site_name}] {context['line']}", text=text, html=html)
