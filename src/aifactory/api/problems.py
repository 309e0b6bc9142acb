"""Every error leaves as application/problem+json (RFC 9457) with a clear message; never a bare 500 page."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain.errors import DomainError
from ..services.ports import BackendUnavailable, StoreUnavailable
from ..store.uow import UNAVAILABLE, unavailable

log = logging.getLogger("aifactory.api")
PROBLEM = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def _portal(request: Request) -> Any:
    """The portal's HTML error handler, for every path outside the API (see aifactory.web)."""
    if request.url.path.startswith("/api/"):
        return None
    return getattr(request.app.state, "web_errors", None)


async def _domain(request: Request, exc: DomainError) -> Any:
    if (web := _portal(request)) is not None:
        return await web(request, exc)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if (retry_after := getattr(exc, "retry_after", None)) is not None:  # 429: services.throttle
        headers = {"Retry-After": str(retry_after)}
    return problem(
        exc.status, exc.title, str(exc), [{"field": e.field, "message": e.message} for e in exc.errors], headers
    )


async def _validation(request: Request, exc: RequestValidationError) -> Any:
    if (web := _portal(request)) is not None:
        return await web(request, exc)
    errors = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(422, "Invalid input", detail or "invalid request", errors)


async def _http(request: Request, exc: StarletteHTTPException) -> Any:
    if (web := _portal(request)) is not None:
        return await web(request, exc)
    titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large", 401: "Unauthorized"}
    return problem(
        exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), headers=getattr(exc, "headers", None)
    )


async def _unavailable(request: Request, exc: BackendUnavailable) -> Any:
    """The scheduler cannot be reached: nothing was done; the same request may succeed later."""
    if (web := _portal(request)) is not None:
        return await web(request, exc)
    log.warning("the job backend is unavailable on %s %s: %s", request.method, request.url.path, exc)
    return problem(
        503,
        "Service unavailable",
        f"the job scheduler cannot be reached right now ({exc}); nothing was changed, retry later",
        headers={"Retry-After": str(exc.retry_after_seconds)},
    )


async def _store_unavailable(request: Request, exc: Exception) -> Any:
    """The database cannot answer: 503 with Retry-After, and one log line (no traceback) per failed request.
    A submission the database failed after its job was stored names the job (``job_id``, ``Location``)."""
    found = exc if isinstance(exc, StoreUnavailable) else unavailable(exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, found)
    if (web := _portal(request)) is not None:
        return await web(request, found)
    headers = {"Retry-After": str(found.retry_after_seconds)}
    job_id = getattr(found, "job_id", None)
    if job_id is None:
        detail = "the database cannot be reached right now; nothing was changed, retry later"
        return problem(503, "Service unavailable", detail, headers=headers)
    headers["Location"] = f"{request.scope.get('root_path', '')}/api/v1/jobs/{job_id}"
    detail = (
        f"the database went away while job {job_id} was being submitted: the job may exist (GET /jobs/{job_id} "
        "tells once the database is back; a stored job is handed to the scheduler by the reconciler)"
    )
    return problem(503, "Service unavailable", detail, headers=headers, extra={"job_id": job_id})


async def _unexpected(request: Request, exc: Exception) -> Any:
    if (web := _portal(request)) is not None:
        return await web(request, exc)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    # Starlette types every handler as taking any Exception; each of these is registered for its own class only
    app.add_exception_handler(DomainError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(BackendUnavailable, _unavailable)  # type: ignore[arg-type]
    for error in (StoreUnavailable, *UNAVAILABLE):  # handled here: never re-raised to the server's log
        app.add_exception_handler(error, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected)


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with 413, declared or streamed (pure ASGI, no buffering).
    ``larger``: (method, a pattern of paths, their own limit) for the few requests that carry files, e.g. the
    chunks of a storage upload or a proposal's PDF."""

    def __init__(self, app: Any, limit: int, larger: tuple[tuple[str, re.Pattern[str], int], ...] = ()):
        self.app, self.base, self.larger = app, limit, larger

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.base
        for method, pattern, own in self.larger:
            if scope["method"] == method and pattern.fullmatch(scope["path"]):
                limit = own
                break
        await _Limited(self.app, limit)(scope, receive, send)


class _Limited:
    """One request's body limit."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self.limit)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        detail = f"request bodies are limited to {self.limit:,} bytes"
        resp: Any = problem(413, "Payload too large", detail)
        if not scope["path"].startswith("/api/"):  # a portal form: a page a person can read, nothing saved
            resp = HTMLResponse(
                f"<!doctype html><html lang=en><meta charset=utf-8><title>Too large</title>"
                f"<h1>Payload too large</h1><p>The form was too large ({detail}); nothing was "
                f"saved. <a href=/>Back</a></p></html>",
                status_code=413,
            )
        await resp(scope, receive, send)


class _TooLarge(StarletteHTTPException):
    """Raised from ``receive`` while the app reads a streamed body. An HTTPException, so that FastAPI's body
    parsing passes it on (it turns any other exception into a 400) and it leaves as a 413 problem."""

    def __init__(self, limit: int):
        super().__init__(413, f"request bodies are limited to {limit:,} bytes")
