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
from . import security as sec
from .i18n import LANGUAGES
from .text import markdown
from .viewer import Viewer


def gpu_hours_text(value: float | int | None, digits: int = 1) -> str:
    """GPU-hours: small amounts keep more decimals, so that even a short job's charge (a GPU-second is
    0.0003 GPU-hours) is visible."""
    if value is None:
        return "–"
    if 0 < abs(value) < 1:
        digits = max(digits, 4)
    elif 0 < abs(value) < 10:
        digits = max(digits, 3)
    return f"{value:,.{digits}f}"


def _when(value: datetime | date | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


_VIEWER: ContextVar[Viewer] = ContextVar("aifactory_web_viewer")


def _gettext(message: str, **values: object) -> str:
    """``_`` in every template and macro: the language of the viewer whose page is being rendered."""
    return _VIEWER.get().t.gettext(message, **values)


def _ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    return _VIEWER.get().t.ngettext(singular, plural, n, **values)


def _csrf_token() -> str:
    return _VIEWER.get().csrf


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
    env.filters["hours"] = gpu_hours_text
    env.filters["when"] = _when
    env.filters["markdown"] = markdown
    env.globals.update(
        languages=LANGUAGES, _=_gettext, ngettext=_ngettext, csrf_token=_csrf_token, csrf_field=sec.CSRF_FIELD
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
