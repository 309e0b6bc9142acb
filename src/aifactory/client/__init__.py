"""Typed synchronous HTTP client of the aifactory REST API (``/api/v1``).

One method per API operation; results are the API's JSON (dicts and lists, shapes named below).
Transient failures are retried with exponential backoff: 429, 502, 503 and 504 always (honouring
``Retry-After``), 500 and interrupted exchanges only for GET and HEAD, failed connections always
(nothing reached the server). Errors raise :class:`ApiError` (a subclass per status family)
or :class:`TransportError` when the server cannot be reached.

The methods come in groups, one module each (identity, calls, proposals, projects, jobs, logs, artifacts,
catalog, notifications, reports, storage), all built on :class:`~aifactory.client.base.ClientBase`, which owns the
connection and the one retry loop; :class:`AifactoryClient` is all of them together.
"""

from __future__ import annotations

from .artifacts import ArtifactsMixin, Progress
from .base import API_PREFIX, IDEMPOTENT, RETRY_ALWAYS, ClientBase, HttpCall, Json, Page, api_base
from .calls import CallsMixin
from .catalog import CatalogMixin
from .errors import (
    AifactoryError,
    ApiError,
    AuthError,
    BadRequestError,
    ChecksumMismatch,
    ConflictError,
    JobTimeout,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
    error_from_response,
)
from .identity import IdentityMixin
from .jobs import TERMINAL_STATES, JobsMixin, SpecLike
from .logs import LogsMixin
from .notifications import NotificationsMixin
from .projects import ProjectsMixin
from .proposals import ProposalsMixin
from .reports import ReportsMixin
from .sso import SsoMixin
from .storage import StorageMixin
from .teams import TeamsMixin


class AifactoryClient(
    IdentityMixin,
    CallsMixin,
    ProposalsMixin,
    ProjectsMixin,
    JobsMixin,
    LogsMixin,
    ArtifactsMixin,
    CatalogMixin,
    NotificationsMixin,
    ReportsMixin,
    SsoMixin,
    StorageMixin,
    TeamsMixin,
):
    """``AifactoryClient("http://127.0.0.1:8000", token)``; use as a context manager or call ``close()``.

    ``transport`` (e.g. ``httpx.MockTransport``) or ``http`` (a ready ``httpx.Client`` such as FastAPI's
    ``TestClient``, which this client then does not close) replace the network for tests.
    """


__all__ = [
    "API_PREFIX",
    "IDEMPOTENT",
    "RETRY_ALWAYS",
    "TERMINAL_STATES",
    "AifactoryClient",
    "AifactoryError",
    "ApiError",
    "AuthError",
    "BadRequestError",
    "ChecksumMismatch",
    "ClientBase",
    "ConflictError",
    "HttpCall",
    "JobTimeout",
    "Json",
    "NotFoundError",
    "Page",
    "Progress",
    "RateLimitError",
    "ServerError",
    "SpecLike",
    "TransportError",
    "ValidationError",
    "api_base",
    "error_from_response",
]
