"""Jinja2 rendering: autoescaped templates shipped in the package, the viewer's language, flash messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .. import __version__
from . import formats
from . import security as sec
from .charts_units import amount_text, number
from .i18n import LANGUAGES
from .problems_text import problem_text
from .reasons_text import reason_text
from .text import markdown
from .viewer import Viewer

_VIEWER: ContextVar[Viewer] = ContextVar("aifactory_web_viewer")


def _lang() -> str:
    """The language of the page being rendered (English outside a page, e.g. in a unit test)."""
    viewer = _VIEWER.get(None)
    return viewer.lang if viewer is not None else "en"


def gpu_hours_text(value: float | int | None, digits: int = 1) -> str:
    """GPU-hours with enough decimals for a short job's charge, in the page's style (formats.gpu_hours_text)."""
    return formats.gpu_hours_text(value, _lang(), digits)


def number_text(value: float | int | None) -> str:
    """``|number``: a count or amount with the page's grouping (``2,000`` / ``2.000``)."""
    return formats.number_text(value, _lang())


def decimal_text(value: float | int | None, places: int = 2) -> str:
    """``|decimal``: exactly ``places`` decimals (``500.00`` / ``500,00``)."""
    return formats.decimal_text(value, _lang(), places)


def bytes_text(value: int) -> str:
    """``size_text(n)``: a size in binary units in the page's style (``10.0 MiB`` / ``10,0 MiB``)."""
    return formats.bytes_text(value, _lang())


def date_text(value: date | datetime | None) -> str:
    """``|date``: a day in the page's format."""
    return formats.date_text(value, _lang())


def datetime_text(value: date | datetime | None) -> str:
    """``|datetime`` and ``|when``: a moment in the page's format, in UTC."""
    return formats.datetime_text(value, _lang())


def problem_words(message: str | None) -> str:
    """``|problem``: a validation message of the domain in the viewer's words (web.problems_text)."""
    viewer = _VIEWER.get()
    return problem_text(message, viewer.t.gettext, viewer.lang)


def localized_text(item: Any, field: str) -> str:
    """``|localized("title")``: a catalog item's or a call's words in the page's language where it carries them
    (a call's ``texts.<lang>.<field>``, an item's ``details.texts.<lang>.<field>``, as the shipped templates,
    stories and calls do), else its own field."""
    texts = getattr(item, "texts", None)
    if not isinstance(texts, dict):
        texts = (getattr(item, "details", None) or {}).get("texts") or {}
    own = texts.get(_lang()) or {}
    return str(own.get(field) or getattr(item, field, "") or "")


def _gettext(message: str, **values: object) -> str:
    """``_`` in every template and macro: the language of the viewer whose page is being rendered."""
    return _VIEWER.get().t.gettext(message, **values)


def _ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    return _VIEWER.get().t.ngettext(singular, plural, n, **values)


def _csrf_token() -> str:
    return _VIEWER.get().csrf


def gpu_time_text(seconds: int) -> str:
    """A ledger amount (billing GPU-seconds) in the unit that suits its size: a short job's charge in
    GPU-seconds or GPU-minutes, a long one's in GPU-hours (the rule of charts_units, as tiles and charts)."""
    return gpu_amount_text(seconds / 3600)


def gpu_amount_text(hours: float | None) -> str:
    """GPU-hours in the unit that suits their size (charts_units: one rule for tiles and charts)."""
    viewer = _VIEWER.get()
    return amount_text(hours, viewer.t.gettext, viewer.lang)


def whole_number_text(value: int) -> str:
    """A count in the viewer's style (``2,000`` / ``2.000``)."""
    return number(value, _VIEWER.get().lang, 0)


def decision_reason_text(text: str | None) -> str:
    """A stored decision reason in words for the viewer (web.reasons_text)."""
    viewer = _VIEWER.get()
    return reason_text(text, viewer.t.gettext, viewer.lang)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One environment; ``_`` and ``csrf_token()`` are globals reading the page's viewer (a context
    variable), so that macro files are imported without context and cached."""
    env = Environment(
        loader=PackageLoader("aifactory.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        hours=gpu_hours_text,  # numbers and dates in the page's language (web.formats)
        number=number_text,
        decimal=decimal_text,
        date=date_text,
        datetime=datetime_text,
        when=datetime_text,
        gpu_time=gpu_time_text,
        gpu_amount=gpu_amount_text,
        whole=whole_number_text,
        localized=localized_text,  # a catalog item's words in the page's language
        problem=problem_words,  # a validation message in the page's language
        reason=decision_reason_text,
        markdown=markdown,
    )
    env.globals.update(
        languages=LANGUAGES,
        size_text=bytes_text,
        _=_gettext,
        ngettext=_ngettext,
        csrf_token=_csrf_token,
        csrf_field=sec.CSRF_FIELD,
    )
    env.globals["version"] = __version__
    return env


def _sign(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), f"flash|{text}".encode(), hashlib.sha256).hexdigest()[:32]


def set_flash(response: Response, viewer: Viewer, text: str) -> None:
    """A one-time message shown on the next page (signed, so that only this site sets it)."""
    body = base64.urlsafe_b64encode(text[:300].encode()).decode()
    response.set_cookie(
        sec.FLASH_COOKIE,
        f"{body}.{_sign(_key(viewer), text[:300])}",
        max_age=60,
        httponly=True,
        samesite="lax",
        secure=viewer.ctx.settings.secure_cookies,
        path="/",
    )


def _key(viewer: Viewer) -> str:
    return viewer.ctx.settings.secret_key.get_secret_value()


def _read_flash(request: Request, viewer: Viewer) -> str | None:
    raw = request.cookies.get(sec.FLASH_COOKIE, "")
    body, _, mac = raw.partition(".")
    try:
        text = base64.urlsafe_b64decode(body.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return text if text and hmac.compare_digest(mac, _sign(_key(viewer), text)) else None


def render(request: Request, viewer: Viewer, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    flash = _read_flash(request, viewer) if sec.FLASH_COOKIE in request.cookies else None
    token = _VIEWER.set(viewer)
    try:
        html = (
            environment()
            .get_template(template)
            .render(
                request=request,
                viewer=viewer,
                user=viewer.user,
                lang=viewer.lang,
                flash=flash,
                site_name=viewer.ctx.settings.site_name,
                path=request.url.path,
                **context,
            )
        )
    finally:
        _VIEWER.reset(token)
    response = HTMLResponse(html, status_code=status)
    finish(response, viewer)
    if sec.FLASH_COOKIE in request.cookies and not request.headers.get("hx-request"):
        response.delete_cookie(sec.FLASH_COOKIE, path="/")
    return response


def finish(response: Response, viewer: Viewer) -> None:
    """Cookies every response of the portal may need: a new CSRF seed for an anonymous visitor."""
    if viewer.new_seed:
        response.set_cookie(
            sec.SEED_COOKIE,
            viewer.seed,
            httponly=True,
            samesite="lax",
            path="/",
            secure=viewer.ctx.settings.secure_cookies,
        )


def redirect(viewer: Viewer, url: str, flash: str | None = None, *, htmx: bool = False) -> Response:
    """303 to ``url`` (``HX-Redirect`` for htmx requests, which follow it with a full page load)."""
    response: Response = (
        Response(status_code=204, headers={"HX-Redirect": url}) if htmx else RedirectResponse(url, status_code=303)
    )
    if flash:
        set_flash(response, viewer, flash)
    finish(response, viewer)
    return response
