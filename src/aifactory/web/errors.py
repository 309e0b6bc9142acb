"""Errors on portal pages come back as HTML pages with a clear, translated message (the API keeps
problem+json): sign-in redirects, refused forms, not found, forbidden, too large, unexpected."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import DomainError
from ..services.ports import StoreUnavailable
from .render import redirect, render
from .viewer import CsrfFailed, LoginRequired, Viewer, anonymous_viewer, get_viewer

log = logging.getLogger("aifactory.web")


def N_(message: str) -> str:  # noqa: N802 - marks a message for extraction; translated where it is shown
    return message


# the error titles pages show (DomainError.title and HTTP statuses), translated by _page
TITLES = (
    N_("Bad request"),
    N_("Invalid input"),
    N_("Not found"),
    N_("Forbidden"),
    N_("Unauthorized"),
    N_("Conflict"),
    N_("Service unavailable"),
    N_("Form refused"),
    N_("Method not allowed"),
    N_("Payload too large"),
    N_("Error"),
    N_("Internal error"),
)


def _offline_viewer(request: Request) -> Viewer:
    """The viewer of a page shown while the database is away: the one this request resolved already, else an
    anonymous one."""
    known: Viewer | None = getattr(request.state, "viewer", None)
    return known if known is not None else anonymous_viewer(request, request.app.state.ctx)


def _unavailable_page(request: Request, exc: StoreUnavailable) -> Response:
    """503 with Retry-After, readable, rendered without the database (the API handler logged it once)."""
    viewer = _offline_viewer(request)
    message = viewer.t.gettext(
        "The factory's database cannot be reached right now, so nothing was saved. Please try again in a minute."
    )
    response = render(request, viewer, "error.html", status=503, title=viewer.t.gettext(TITLES[6]), message=message)
    response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


def _page(request: Request, status: int, title: str, message: str) -> Response:
    try:
        viewer = get_viewer(request, request.app.state.ctx)
    except Exception:  # the database itself is down: a bare page, still no traceback
        return HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1>", status_code=status)
    return render(request, viewer, "error.html", status=status, title=viewer.t.gettext(title), message=message)


async def web_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, LoginRequired):
        viewer = get_viewer(request, request.app.state.ctx)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET" or request.headers.get("hx-request"):
            target = request.headers.get("hx-current-url") or "/"
        url = f"/login?next={quote(target)}" + ("&expired=1" if exc.expired else "")
        return redirect(viewer, url, htmx=bool(request.headers.get("hx-request")))
    if isinstance(exc, CsrfFailed):
        viewer = get_viewer(request, request.app.state.ctx)
        return _page(
            request,
            403,
            "Form refused",
            viewer.t.gettext(
                "This form was not sent from this page or has expired. Nothing was saved: reload the page and "
                "try again."
            ),
        )
    if isinstance(exc, StoreUnavailable):
        return _unavailable_page(request, exc)
    if isinstance(exc, DomainError):
        return _page(request, exc.status, exc.title, str(exc))
    if isinstance(exc, RequestValidationError):
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors()[:5]
        )
        return _page(request, 422, "Invalid input", fields)
    if isinstance(exc, StarletteHTTPException):
        titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
        title = titles.get(exc.status_code, "Error")
        return _page(request, exc.status_code, title, "" if exc.status_code == 404 else str(exc.detail))
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _page(request, 500, "Internal error", "")


__all__ = ["web_error"]
