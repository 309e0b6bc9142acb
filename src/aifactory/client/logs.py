"""A job's logs: read a range of bytes, or follow the text live (server-sent events) until the job is over."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from .base import ClientBase, HttpCall, query, transient_status
from .errors import AifactoryError, TransportError, error_from_response

Event = tuple[str, dict[str, Any]]


@dataclass
class _Stream:
    """How one connection to the log stream went."""

    offset: int  # where the next connection goes on from
    progressed: bool = False  # the server answered something (a keep-alive counts)
    ended: bool = False  # the `end` event came: the log is complete
    failure: httpx.Response | Exception | None = None  # a transient error answer, or the broken exchange

    def error(self, url: str) -> AifactoryError:
        if isinstance(self.failure, httpx.Response):
            return error_from_response(self.failure)
        reason = (str(self.failure) or type(self.failure).__name__) if self.failure else "the stream ended early"
        return TransportError(url, reason)


class LogsMixin(ClientBase):
    """A job's stdout and stderr, by byte offset or followed live."""

    def read_log(
        self, job_id: int, stream: str = "stdout", task: int = 0, offset: int = 0, limit: int | None = None
    ) -> tuple[bytes, int, bool]:
        """What the log holds from byte ``offset`` (up to ``limit`` bytes, the server's default 1 MiB):
        ``(data, next_offset, complete)``; complete means the job is over and nothing more will come."""
        params = query(stream=stream, task=task, offset=offset, limit=limit)
        response = self._send(HttpCall("GET", f"{self.base_url}/jobs/{job_id}/logs", params=params))
        if response.is_error:
            raise error_from_response(response)
        next_offset = int(response.headers.get("x-log-offset", offset + len(response.content)))
        return response.content, next_offset, response.headers.get("x-log-complete", "false").lower() == "true"

    def follow_log(self, job_id: int, stream: str = "stdout", task: int = 0, offset: int = 0) -> Iterator[str]:
        """The log's text as it is written, from byte ``offset`` until the job is over (server-sent events).

        A dropped connection is reopened where it stopped (``Last-Event-ID``), at once when it had brought
        something; after ``retries`` attempts in a row that bring nothing, the last failure is raised
        (:class:`TransportError` or the :class:`ApiError`). Which failures are worth another attempt, and how
        long to wait, is the policy of :meth:`_send`; this loop resumes a stream rather than repeating an
        exchange, so it counts only the attempts that brought nothing. Stopping the iteration closes the stream.
        """
        url = f"{self.base_url}/jobs/{job_id}/logs/stream"
        failures = 0
        while True:
            run = yield from self._log_stream(url, stream, task, offset)
            if run.ended:
                return
            offset = run.offset
            failures = 0 if run.progressed else failures + 1
            if failures > self.retries:
                raise run.error(url)
            response = run.failure if isinstance(run.failure, httpx.Response) else None
            self._sleep(self._delay(max(failures - 1, 0), response))

    def _log_stream(self, url: str, stream: str, task: int, offset: int) -> Generator[str, None, _Stream]:
        """One connection to the log stream: yields the text it brings, answers how it went."""
        headers = {**self._headers(), "Accept": "text/event-stream"}
        if offset:
            headers["Last-Event-ID"] = str(offset)
        run = _Stream(offset)
        params: dict[str, str | int] = {"stream": stream, "task": task, "offset": offset}
        try:
            with self._http.stream("GET", url, params=params, headers=headers) as response:
                if response.is_error:
                    response.read()
                    if not transient_status("GET", response.status_code):
                        raise error_from_response(response)
                    run.failure = response
                    return run
                for event, data in events(response.iter_lines()):
                    run.progressed = True
                    if event == "end":
                        run.ended = True
                        return run
                    if event == "log":
                        run.offset = int(data.get("offset", run.offset))
                        yield str(data.get("text", ""))
        except httpx.TransportError as exc:  # refused, reset, read timed out: go on where it stopped
            run.failure = exc
        return run


def events(lines: Iterator[str]) -> Iterator[Event]:
    """``(event, data)`` of each server-sent event, ``data`` decoded from JSON; a comment (keep-alive) is
    ``("comment", {})``."""
    event, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield event, _decode("\n".join(data))
            elif event != "message":
                yield event, {}
            event, data = "message", []
            continue
        if line.startswith(":"):
            yield "comment", {}
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)


def _decode(text: str) -> dict[str, Any]:
    try:
        decoded = json.loads(text)
    except ValueError:
        return {"text": text}
    return decoded if isinstance(decoded, dict) else {"value": decoded}
