"""Everything the client raises: :class:`AifactoryError` and its tree, one class per status family."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx


class AifactoryError(Exception):
    """Base of everything this client raises."""


class TransportError(AifactoryError):
    """The server could not be reached (refused, timed out, broken connection)."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"cannot reach {url}: {reason}")
        self.url, self.reason = url, reason


class ApiError(AifactoryError):
    """The server answered with an error (problem+json): status, title, detail and per-field errors."""

    def __init__(self, status: int, title: str, detail: str = "", errors: Sequence[Mapping[str, str]] = ()):
        self.status, self.title, self.detail = status, title, detail
        self.errors: list[dict[str, str]] = [dict(e) for e in errors]
        super().__init__(str(self))

    def __str__(self) -> str:
        detail = self.detail or "; ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors)
        return f"{self.status} {self.title}: {detail}" if detail else f"{self.status} {self.title}"


class BadRequestError(ApiError):
    """400 and other 4xx without a class of their own."""


class AuthError(ApiError):
    """401 (no or bad token) and 403 (not allowed)."""


class NotFoundError(ApiError):
    """404."""


class ConflictError(ApiError):
    """409: well-formed, but not allowed in the current state."""


class ValidationError(ApiError):
    """422: invalid input, with ``errors`` naming the fields."""


class RateLimitError(ApiError):
    """429 after the retries were used up."""


class ServerError(ApiError):
    """5xx."""


class JobTimeout(AifactoryError, TimeoutError):
    """:meth:`~aifactory.client.jobs.JobsMixin.wait` gave up: the job was not over after ``timeout`` seconds
    (``job`` is its last known state; it goes on running)."""

    def __init__(self, job: Mapping[str, Any], timeout: float):
        self.job, self.job_id, self.timeout, self.state = dict(job), job["id"], timeout, job["state"]
        super().__init__(f"job {self.job_id} is still {self.state} after {timeout:g}s")


class ChecksumMismatch(AifactoryError):
    """A downloaded artifact's sha256 differs from the server's."""

    def __init__(self, job_id: int, path: str, expected: str, got: str):
        self.job_id, self.path, self.expected, self.got = job_id, path, expected, got
        super().__init__(f"artifact {path!r} of job {job_id}: sha256 {got} does not match the expected {expected}")


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def error_from_response(response: httpx.Response) -> ApiError:
    """The exception for an error response, from its problem+json body (or its text when it has none)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text.strip()[:500]}
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else BadRequestError)
    title = str(body.get("title") or response.reason_phrase or "Error")
    listed = body.get("errors")
    errors = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
    return cls(status, title, str(body.get("detail") or ""), errors)
