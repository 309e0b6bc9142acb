"""Typed synchronous HTTP client of the aifactory REST API (``/api/v1``).

One method per API operation; results are the API's JSON (dicts and lists, shapes named below).
Transient failures are retried with exponential backoff: 429, 502, 503 and 504 always (honouring
``Retry-After``), 500 and interrupted exchanges only for GET and HEAD, failed connections always
(nothing reached the server). Errors raise :class:`ApiError` (a subclass per status family)
or :class:`TransportError` when the server cannot be reached.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypedDict

import httpx

API_PREFIX = "/api/v1"
IDEMPOTENT = frozenset({"GET", "HEAD"})  # retried after a 500 or an interrupted exchange
RETRY_ALWAYS = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 120.0

Json = dict[str, Any]


class Page(TypedDict):
    """One page of a listing: ``items`` plus the paging facts."""

    items: list[Json]
    total: int
    limit: int
    offset: int


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
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    return cls(status, title, str(body.get("detail") or ""), [e for e in errors if isinstance(e, dict)])


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), capped; None when absent or bad."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return None if math.isnan(seconds) else min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones; dates as ISO strings, booleans as true/false."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (date, datetime)):
            value = value.isoformat()
        out[key] = value
    return out


def _body(**values: Any) -> Json:
    """A JSON body without the unset (None) fields."""
    return {k: v for k, v in values.items() if v is not None}


def api_base(url: str) -> str:
    """``http://host:8000``, ``http://host:8000/`` and ``http://host:8000/api/v1`` all name the same API."""
    url = url.strip().rstrip("/")
    return url if url.endswith(API_PREFIX) else url + API_PREFIX


from .client_catalog import CatalogMixin  # noqa: E402
from .client_jobs import JobsMixin  # noqa: E402 - after the errors that its module extends
from .client_ledger import LedgerMixin  # noqa: E402
from .client_notifications import NotificationsMixin  # noqa: E402
from .client_reports import ReportsMixin  # noqa: E402


class AifactoryClient(JobsMixin, LedgerMixin, NotificationsMixin, ReportsMixin, CatalogMixin):
    """``AifactoryClient("http://127.0.0.1:8000", token)``; use as a context manager or call ``close()``.

    ``transport`` (e.g. ``httpx.MockTransport``) or ``http`` (a ready ``httpx.Client`` such as FastAPI's
    ``TestClient``, which this client then does not close) replace the network for tests.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = api_base(base_url)
        self.token = token
        self.retries, self.backoff, self.max_backoff, self._sleep = max(retries, 0), backoff, max_backoff, sleep
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout, transport=transport)

    def __enter__(self) -> AifactoryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json, application/problem+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        hinted = _retry_after(response) if response is not None else None
        return hinted if hinted is not None else min(self.backoff * 2**attempt, self.max_backoff)

    def _send(self, method: str, url: str, params: Mapping[str, Any] | None, json: Any) -> httpx.Response:
        """One exchange, retried while the failure is transient; the last failure is raised or returned."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.request(method, url, params=params, json=json, headers=self._headers())
            except httpx.TransportError as exc:
                safe = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) or method in IDEMPOTENT
                if last or not safe:
                    raise TransportError(url, str(exc) or type(exc).__name__) from exc
                self._sleep(self._delay(attempt))
                continue
            status = response.status_code
            transient = status in RETRY_ALWAYS or (status == 500 and method in IDEMPOTENT)
            if last or not transient:
                return response
            self._sleep(self._delay(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        """The decoded JSON answer of ``method path`` (None for 204); an :class:`ApiError` for errors."""
        url = self.base_url + path
        response = self._send(method.upper(), url, params, json)
        if response.is_error:
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:  # e.g. a web page: the URL names something else than this API
            kind = response.headers.get("content-type", "no content type")
            raise ApiError(
                response.status_code,
                "Not an aifactory API answer",
                f"{url} answered {kind}, not JSON; check the server URL",
            ) from None

    def _get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=_params(**params))

    def _walk(self, path: str, page_size: int, **params: Any) -> Iterator[Json]:
        offset = 0
        while True:
            page: Page = self._get(path, limit=page_size, offset=offset, **params)
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    # -- meta and identity ------------------------------------------------------------------------

    def health(self) -> Json:
        return self._get("/health")

    def register(
        self, *, organization_name: str, kind: str, country: str, email: str, name: str, sectors: Sequence[str] = ()
    ) -> Json:
        """A new organization and its first user; the answer holds ``organization``, ``user`` and ``token``."""
        body = {
            "organization": {"name": organization_name, "kind": kind, "country": country, "sectors": list(sectors)},
            "user": {"email": email, "name": name},
        }
        return self.request("POST", "/register", json=body)

    def me(self) -> Json:
        return self._get("/me")

    def list_tokens(self) -> list[Json]:
        return self._get("/tokens")

    def create_token(self, name: str = "cli", ttl_days: int = 90) -> Json:
        """A new token of the current user; the secret is in ``token`` and shown this once."""
        return self.request("POST", "/tokens", json={"name": name, "ttl_days": ttl_days})

    def revoke_token(self, token_id: int) -> Json:
        return self.request("DELETE", f"/tokens/{token_id}")

    # -- organizations and users ------------------------------------------------------------------

    def list_organizations(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        q: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        return self._get("/organizations", kind=kind, country=country, q=q, limit=limit, offset=offset)

    def get_organization(self, organization_id: int) -> Json:
        return self._get(f"/organizations/{organization_id}")

    def list_users(
        self, *, organization_id: int | None = None, role: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page:
        return self._get("/users", organization_id=organization_id, role=role, limit=limit, offset=offset)

    def create_user(
        self,
        *,
        email: str,
        name: str,
        organization_id: int | None = None,
        is_reviewer: bool = False,
        is_operator: bool = False,
        is_org_admin: bool = False,
    ) -> Json:
        """The new ``user`` and its first ``token``."""
        body = {
            "email": email,
            "name": name,
            "organization_id": organization_id,
            "is_reviewer": is_reviewer,
            "is_operator": is_operator,
            "is_org_admin": is_org_admin,
        }
        return self.request("POST", "/users", json=body)

    def set_roles(
        self,
        user_id: int,
        *,
        is_reviewer: bool | None = None,
        is_operator: bool | None = None,
        active: bool | None = None,
    ) -> Json:
        body = _body(is_reviewer=is_reviewer, is_operator=is_operator, active=active)
        return self.request("PATCH", f"/users/{user_id}/roles", json=body)

    # -- sites, resources and calls ---------------------------------------------------------------

    def list_sites(self) -> list[Json]:
        return self._get("/sites")

    def create_site(
        self, *, slug: str, name: str, country: str, holiday_subdivision: str | None = None, description: str = ""
    ) -> Json:
        body = _body(
            slug=slug, name=name, country=country, holiday_subdivision=holiday_subdivision, description=description
        )
        return self.request("POST", "/sites", json=body)

    def add_resource(self, site_id: int, **fields: Any) -> Json:
        """A partition of a site: ``name``, ``nodes``, ``gpus_per_node``, ``cpus_per_node``,
        ``memory_gb_per_node``, optionally ``gpu_model``, ``description`` and billing weights."""
        return self.request("POST", f"/sites/{site_id}/resources", json=_body(**fields))

    def get_resource(self, resource_id: int) -> Json:
        return self._get(f"/resources/{resource_id}")

    def list_calls(
        self, *, access_mode: str | None = None, open_only: bool = False, limit: int = 50, offset: int = 0
    ) -> Page:
        """Calls, optionally only those open for submissions today."""
        return self._get("/calls", access_mode=access_mode, open=open_only or None, limit=limit, offset=offset)

    def get_call(self, call_id: int) -> Json:
        return self._get(f"/calls/{call_id}")

    def create_call(self, **settings: Any) -> Json:
        """``slug``, ``title``, ``access_mode``, ``site_id``, ``opens_on``, ``max_gpu_hours``, ``resource_ids``
        and any other call setting (see the API's ``CallCreate``)."""
        return self.request("POST", "/calls", json=_body(**settings))

    def update_call(self, call_id: int, **changes: Any) -> Json:
        """Only the given settings change (None means "leave as is")."""
        return self.request("PATCH", f"/calls/{call_id}", json=_body(**changes))

    # -- proposals and reviews --------------------------------------------------------------------

    def list_proposals(
        self,
        *,
        status: str | None = None,
        call_id: int | None = None,
        order: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        return self._get("/proposals", status=status, call_id=call_id, order=order, limit=limit, offset=offset)

    def iter_proposals(
        self, *, status: str | None = None, call_id: int | None = None, order: str | None = None, page_size: int = 100
    ) -> Iterator[Json]:
        """Every visible proposal, fetched page by page."""
        return self._walk("/proposals", page_size, status=status, call_id=call_id, order=order)

    def create_proposal(self, body: Mapping[str, Any]) -> Json:
        """A draft from the API's ``ProposalCreate`` body (``call_id``, ``title``, ``requested_gpu_hours``, …)."""
        return self.request("POST", "/proposals", json=dict(body))

    def get_proposal(self, proposal_id: int) -> Json:
        return self._get(f"/proposals/{proposal_id}")

    def edit_proposal(self, proposal_id: int, changes: Mapping[str, Any]) -> Json:
        return self.request("PATCH", f"/proposals/{proposal_id}", json=dict(changes))

    def submit_proposal(self, proposal_id: int) -> Json:
        return self.request("POST", f"/proposals/{proposal_id}/submit")

    def withdraw_proposal(self, proposal_id: int) -> Json:
        return self.request("POST", f"/proposals/{proposal_id}/withdraw")

    def assign_reviewers(self, proposal_id: int, reviewer_ids: Sequence[int]) -> list[Json]:
        return self.request("POST", f"/proposals/{proposal_id}/reviewers", json={"reviewer_ids": list(reviewer_ids)})

    def list_reviews(self, proposal_id: int) -> list[Json]:
        return self._get(f"/proposals/{proposal_id}/reviews")

    def submit_review(
        self,
        proposal_id: int,
        *,
        scores: Mapping[str, int],
        comments: Mapping[str, str] | None = None,
        summary: str = "",
    ) -> Json:
        body = {"scores": dict(scores), "comments": dict(comments or {}), "summary": summary}
        return self.request("POST", f"/proposals/{proposal_id}/reviews", json=body)

    def review_queue(self) -> list[Json]:
        return self._get("/reviews/queue")

    def decide(
        self,
        proposal_id: int,
        decision: str,
        *,
        reason: str = "",
        awarded_gpu_hours: int | None = None,
        start_date: date | str | None = None,
    ) -> Json:
        """``decision`` is ``accept`` or ``reject`` (a rejection needs a reason)."""
        start = start_date.isoformat() if isinstance(start_date, date) else start_date
        body = _body(decision=decision, reason=reason, awarded_gpu_hours=awarded_gpu_hours, start_date=start)
        return self.request("POST", f"/proposals/{proposal_id}/decision", json=body)

    # -- projects, allocations and audit ----------------------------------------------------------

    def list_projects(self, *, limit: int = 50, offset: int = 0) -> Page:
        return self._get("/projects", limit=limit, offset=offset)

    def get_project(self, project_id: int) -> Json:
        return self._get(f"/projects/{project_id}")

    def add_member(
        self, project_id: int, *, user_id: int | None = None, email: str | None = None, role: str = "member"
    ) -> Json:
        body = _body(user_id=user_id, email=email, role=role)
        return self.request("POST", f"/projects/{project_id}/members", json=body)

    def remove_member(self, project_id: int, user_id: int) -> None:
        self.request("DELETE", f"/projects/{project_id}/members/{user_id}")

    def list_allocations(self, *, project_id: int | None = None, limit: int = 50, offset: int = 0) -> Page:
        return self._get("/allocations", project_id=project_id, limit=limit, offset=offset)

    def get_allocation(self, allocation_id: int) -> Json:
        return self._get(f"/allocations/{allocation_id}")

    def audit(
        self,
        *,
        entity_type: str | None = None,
        entity_id: int | None = None,
        actor_id: int | None = None,
        action: str | None = None,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """The audit log (operators); ``since``/``until`` without an offset are read as UTC."""
        return self._get(
            "/audit",
            entity_type=entity_type,
            entity_id=entity_id,
            actor_id=actor_id,
            action=action,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
