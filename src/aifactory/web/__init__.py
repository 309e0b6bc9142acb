"""The portal: server-rendered pages (Jinja2 + htmx, assets shipped in the package) on the API's app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import web_error
from .routes import ROUTERS
from .security import SECURITY_HEADERS
from .viewer import CsrfFailed, LoginRequired

STATIC_DIR = Path(__file__).parent / "static"


class SecurityHeaders:
    """CSP, no sniffing, no framing, no caching of pages: on every response outside the API."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if static and name == "cache-control":
                        value = "public, max-age=3600"
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_portal(app: FastAPI) -> None:
    app.state.web_errors = web_error
    app.add_exception_handler(LoginRequired, web_error)
    app.add_exception_handler(CsrfFailed, web_error)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.add_middleware(SecurityHeaders)
