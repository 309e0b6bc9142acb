"""The plumbing every group of client methods stands on: :class:`ClientBase` with the one retry loop
(:meth:`ClientBase._send`), the decoding of answers, and the query and body helpers.

The retry policy: 429, 502, 503 and 504 are retried always (honouring ``Retry-After``), 500 and interrupted
exchanges only for GET and HEAD, failed connections always (nothing reached the server); each wait doubles
(``backoff`` × 2^attempt, at most ``max_backoff``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self, TypedDict, cast

import httpx

from .errors import ApiError, TransportError, error_from_response

API_PREFIX = "/api/v1"
IDEMPOTENT = frozenset({"GET", "HEAD"})  # retried after a 500 or an interrupted exchange
RETRY_ALWAYS = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 120.0

Json = dict[str, Any]
BodyReader = Callable[[httpx.Response], None]


class Page(TypedDict):
    """One page of a listing: ``items`` plus the paging facts."""

    items: list[Json]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class HttpCall:
    """One HTTP exchange as :meth:`ClientBase._send` sends it (and sends it again after a transient failure)."""

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # on top of the client's own


def transient_status(method: str, status: int) -> bool:
    """An answer worth asking again: overload and gateway errors always, a 500 only for reads."""
    return status in RETRY_ALWAYS or (status == 500 and method in IDEMPOTENT)


def transient_failure(method: str, exc: httpx.TransportError) -> bool:
    """A failed exchange worth trying again: a failed connection always (nothing reached the server), any
    other interruption only for reads."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) or method in IDEMPOTENT


def retry_after(response: httpx.Response) -> float | None:
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


def query(**values: Any) -> dict[str, Any]:
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


def without_none(**values: Any) -> Json:
    """A JSON body without the unset (None) fields."""
    return {k: v for k, v in values.items() if v is not None}


def api_base(url: str) -> str:
    """``http://host:8000``, ``http://host:8000/`` and ``http://host:8000/api/v1`` all name the same API."""
    url = url.strip().rstrip("/")
    return url if url.endswith(API_PREFIX) else url + API_PREFIX


def decoded(response: httpx.Response) -> Any:
    """The JSON of a successful answer (None for 204 or no content); the :class:`ApiError` of a failed one."""
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
            f"{response.request.url.copy_with(query=None)} answered {kind}, not JSON; check the server URL",
        ) from None


class ClientBase:
    """The connection, the credentials and the retry settings; the method groups build on its ``request``,
    ``_get``, ``_call`` and ``_send``.

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # -- the one retry loop -----------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json, application/problem+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        hinted = retry_after(response) if response is not None else None
        return hinted if hinted is not None else min(self.backoff * 2**attempt, self.max_backoff)

    def _send(self, call: HttpCall, read: BodyReader | None = None) -> httpx.Response:
        """``call``, sent again while the failure is transient; the last failure is raised (no answer) or
        returned (an error answer). ``read`` consumes a successful answer's body as it streams in (a download);
        an interruption while it reads counts as a failed exchange, so ``read`` must start over each time."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._exchange(call, read)
            except httpx.TransportError as exc:
                if last or not transient_failure(call.method, exc):
                    raise TransportError(call.url, str(exc) or type(exc).__name__) from exc
                self._sleep(self._delay(attempt))
                continue
            if last or not transient_status(call.method, response.status_code):
                return response
            self._sleep(self._delay(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, call: HttpCall, read: BodyReader | None) -> httpx.Response:
        headers = {**self._headers(), **call.headers}
        options: dict[str, Any] = {"params": call.params, "headers": headers}
        options |= {"content": call.content} if call.content is not None else {"json": call.json}
        if read is None:
            return self._http.request(call.method, call.url, **options)
        with self._http.stream(call.method, call.url, **options) as response:
            if response.is_error:
                response.read()
            else:
                read(response)
        return response

    # -- requests and their answers ---------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        """The decoded JSON answer of ``method path`` (None for 204); an :class:`ApiError` for errors."""
        return decoded(self._send(HttpCall(method.upper(), self.base_url + path, params=params, json=json)))

    def _call(self, method: str, path: str, json: Any = None) -> Json:
        """A request answered with one JSON object."""
        return cast(Json, self.request(method, path, json=json))

    def _get(self, path: str, **params: Any) -> Json:
        return cast(Json, self.request("GET", path, params=query(**params)))

    def _get_list(self, path: str, **params: Any) -> list[Json]:
        return cast(list[Json], self.request("GET", path, params=query(**params)))

    def _get_page(self, path: str, **params: Any) -> Page:
        return cast(Page, self.request("GET", path, params=query(**params)))

    def _walk(self, path: str, page_size: int, **params: Any) -> Iterator[Json]:
        offset = 0
        while True:
            page = self._get_page(path, limit=page_size, offset=offset, **params)
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return
