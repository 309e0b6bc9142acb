"""The job methods of :class:`aifactory.client.AifactoryClient`: submit a spec, watch the job, read or follow
its logs, fetch its artifacts.

    with AifactoryClient(url, token) as client:
        job = client.submit("train.yaml")          # or a dict; YAML files go to the server as YAML
        for text in client.follow_log(job["id"]):  # live, resumes after a dropped connection
            print(text, end="")
        job = client.wait(job["id"], timeout=3600)  # the final job; JobTimeout if it takes longer
        client.download_artifacts(job["id"], "out/")  # every artifact, sha256 verified

:class:`JobsMixin` only uses the client's plumbing (``request``, ``_get``, ``_send`` and its retry settings);
its errors (:class:`JobTimeout`, :class:`ChecksumMismatch`) extend the client's :class:`AifactoryError` tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

if TYPE_CHECKING:
    from .client import Json, Page

TERMINAL_STATES = frozenset({"completed", "failed", "cancelled", "timeout"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})
CHUNK = 1 << 16

SpecLike = Mapping[str, Any] | str | os.PathLike[str]
Progress = Callable[[int, int | None], None]  # bytes so far, total (None when unknown)


class JobsMixin:
    """Jobs, their logs and their artifacts (mixed into :class:`~aifactory.client.AifactoryClient`)."""

    # provided by AifactoryClient
    base_url: str
    retries: int
    _http: httpx.Client
    _sleep: Callable[[float], None]

    if TYPE_CHECKING:

        def request(
            self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
        ) -> Any: ...
        def _get(self, path: str, **params: Any) -> Any: ...
        def _walk(self, path: str, page_size: int, **params: Any) -> Iterator[Json]: ...
        def _headers(self) -> dict[str, str]: ...
        def _delay(self, attempt: int, response: httpx.Response | None = None) -> float: ...
        def _send(self, method: str, url: str, params: Mapping[str, Any] | None, json: Any) -> httpx.Response: ...

    # -- specs and jobs ---------------------------------------------------------------------------

    def submit(self, spec: SpecLike) -> Json:
        """Submit a job: ``spec`` is a dict or the path of a YAML or JSON file (a YAML file is sent as
        ``application/yaml`` and parsed by the server, which names any bad field). Answers the job; a spec whose
        ``idempotency_key`` was used before answers the job submitted then."""
        if isinstance(spec, Mapping):
            return self.request("POST", "/jobs", json=dict(spec))
        path = Path(spec)
        content = path.read_bytes()  # OSError (FileNotFoundError, …) when it cannot be read
        kind = "application/json" if path.suffix.lower() == ".json" else "application/yaml"  # JSON is YAML too
        return self._decoded(self._send_content("POST", "/jobs", content=content, content_type=kind))

    def list_jobs(
        self, *, project_id: int | None = None, state: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page:
        """Jobs of your projects (operators: all), newest first."""
        return self._get("/jobs", project_id=project_id, state=state, limit=limit, offset=offset)

    def iter_jobs(
        self, *, project_id: int | None = None, state: str | None = None, page_size: int = 100
    ) -> Iterator[Json]:
        """Every visible job, fetched page by page."""
        return self._walk("/jobs", page_size, project_id=project_id, state=state)

    def get_job(self, job_id: int) -> Json:
        return self._get(f"/jobs/{job_id}")

    def cancel_job(self, job_id: int) -> Json:
        """Cancel a job (its submitter, the project's PI or an operator); a finished job stays as it is."""
        return self.request("POST", f"/jobs/{job_id}/cancel")

    def job_schema(self) -> Json:
        """The job spec's JSON Schema."""
        return self._get("/jobs/schema")

    def wait(
        self,
        job_id: int,
        timeout: float | None = None,
        poll: float = 1.0,
        on_change: Callable[[Json], None] | None = None,
    ) -> Json:
        """Poll until the job is over (completed, failed, cancelled or timeout) and answer it.

        ``on_change(job)`` is called with the first answer and after every change of state. Raises
        :class:`JobTimeout` (holding the last answer) when ``timeout`` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: str | None = None
        while True:
            job = self.get_job(job_id)
            if job["state"] != seen:
                seen = job["state"]
                if on_change is not None:
                    on_change(job)
            if job["state"] in TERMINAL_STATES:
                return job
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise JobTimeout(job, timeout or 0.0)
            self._sleep(poll if left is None else min(poll, left))

    # -- logs -------------------------------------------------------------------------------------

    def read_log(
        self, job_id: int, stream: str = "stdout", task: int = 0, offset: int = 0, limit: int | None = None
    ) -> tuple[bytes, int, bool]:
        """What the log holds from byte ``offset`` (up to ``limit`` bytes, the server's default 1 MiB):
        ``(data, next_offset, complete)``; complete means the job is over and nothing more will come."""
        url = f"{self.base_url}/jobs/{job_id}/logs"
        params = _query(stream=stream, task=task, offset=offset, limit=limit)
        response = self._send("GET", url, params, None)
        if response.is_error:
            raise error_from_response(response)
        next_offset = int(response.headers.get("x-log-offset", offset + len(response.content)))
        return response.content, next_offset, response.headers.get("x-log-complete", "false").lower() == "true"

    def follow_log(self, job_id: int, stream: str = "stdout", task: int = 0, offset: int = 0) -> Iterator[str]:
        """The log's text as it is written, from byte ``offset`` until the job is over (server-sent events).

        A dropped connection is reopened where it stopped (``Last-Event-ID``), at once when it had brought
        something; after ``retries`` attempts in a row that bring nothing, the last failure is raised
        (:class:`TransportError` or the :class:`ApiError`). Stopping the iteration closes the stream."""
        url = f"{self.base_url}/jobs/{job_id}/logs/stream"
        failures = 0
        while True:
            headers = {**self._headers(), "Accept": "text/event-stream"}
            if offset:
                headers["Last-Event-ID"] = str(offset)
            failure: httpx.Response | Exception | None = None
            progressed = False
            try:
                with self._http.stream(
                    "GET", url, params={"stream": stream, "task": task, "offset": offset}, headers=headers
                ) as response:
                    if response.is_error:
                        response.read()
                        if response.status_code not in RETRY_ALWAYS:
                            raise error_from_response(response)
                        failure = response
                    else:
                        for event, data in _events(response.iter_lines()):
                            progressed = True  # the server answers (a keep-alive counts)
                            if event == "end":
                                return
                            if event == "log":
                                offset = int(data.get("offset", offset))
                                yield str(data.get("text", ""))
            except httpx.TransportError as exc:  # refused, reset, read timed out: go on where it stopped
                failure = exc
            # the stream ended without `end` (or could not start): reconnect, with a backoff
            failures = 0 if progressed else failures + 1
            if failures > self.retries:
                if isinstance(failure, httpx.Response):
                    raise error_from_response(failure)
                reason = (str(failure) or type(failure).__name__) if failure else "the stream ended early"
                raise TransportError(url, reason)
            self._sleep(self._delay(max(failures - 1, 0), failure if isinstance(failure, httpx.Response) else None))

    # -- artifacts --------------------------------------------------------------------------------

    def list_artifacts(self, job_id: int, checksums: bool = False) -> list[Json]:
        """The files the spec's ``outputs`` name: ``path`` (relative), ``size``, ``modified_at`` and, with
        ``checksums``, ``sha256``."""
        return self._get(f"/jobs/{job_id}/artifacts", checksums=checksums or None)

    def download_artifact(
        self,
        job_id: int,
        path: str,
        dest: str | os.PathLike[str],
        *,
        sha256: str | None = None,
        progress: Progress | None = None,
    ) -> Path:
        """Stream artifact ``path`` into the file ``dest`` (into ``dest/path`` when ``dest`` is a folder) and
        answer where it went. With ``sha256`` the content is checked (:class:`ChecksumMismatch`, and no file,
        when it differs). ``progress(done, total)`` is called as bytes arrive. Written to ``*.part`` first,
        so a failed download leaves no half file behind."""
        target = Path(dest)
        if target.is_dir():
            target = _inside(target, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        url = f"{self.base_url}/jobs/{job_id}/artifacts/{quote(path, safe='/')}"
        for attempt in range(self.retries + 1):
            try:
                digest = self._fetch(url, partial, progress)
                break
            except httpx.TransportError as exc:
                partial.unlink(missing_ok=True)
                if attempt == self.retries:
                    raise TransportError(url, str(exc) or type(exc).__name__) from exc
                self._sleep(self._delay(attempt))
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        if sha256 is not None and digest != sha256.lower():
            partial.unlink(missing_ok=True)
            raise ChecksumMismatch(job_id, path, sha256, digest)
        partial.replace(target)
        return target

    def download_artifacts(
        self,
        job_id: int,
        dest_dir: str | os.PathLike[str],
        *,
        progress: Callable[[Json, int, int | None], None] | None = None,
    ) -> list[Path]:
        """Every artifact of the job into ``dest_dir`` (keeping their relative paths), each checked against
        the sha256 the server computed. ``progress(artifact, done, total)`` follows each download."""
        folder = Path(dest_dir)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for artifact in self.list_artifacts(job_id, checksums=True):
            step = None if progress is None else (lambda done, total, a=artifact: progress(a, done, total))
            out.append(
                self.download_artifact(
                    job_id,
                    artifact["path"],
                    _inside(folder, artifact["path"]),
                    sha256=artifact.get("sha256"),
                    progress=step,
                )
            )
        return out

    # -- plumbing ---------------------------------------------------------------------------------

    def _send_content(self, method: str, path: str, *, content: bytes, content_type: str) -> httpx.Response:
        """Like the client's ``_send`` (same retries), for a raw body of the given content type."""
        url = self.base_url + path
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            headers = {**self._headers(), "Content-Type": content_type}
            try:
                response = self._http.request(method, url, content=content, headers=headers)
            except httpx.TransportError as exc:
                if last or not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                    raise TransportError(url, str(exc) or type(exc).__name__) from exc
                self._sleep(self._delay(attempt))
                continue
            if last or response.status_code not in RETRY_ALWAYS:
                return response
            self._sleep(self._delay(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover

    def _decoded(self, response: httpx.Response) -> Any:
        if response.is_error:
            raise error_from_response(response)
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                response.status_code,
                "Not an aifactory API answer",
                f"{response.url} did not answer JSON; check the server URL",
            ) from None

    def _fetch(self, url: str, into: Path, progress: Progress | None) -> str:
        """One streamed download into ``into``; answers the content's sha256."""
        with self._http.stream("GET", url, headers={**self._headers(), "Accept": "*/*"}) as response:
            if response.is_error:
                response.read()
                raise error_from_response(response)
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
            digest, done = hashlib.sha256(), 0
            with into.open("wb") as fh:
                if progress is not None:
                    progress(0, total)
                for block in response.iter_bytes(CHUNK):
                    fh.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
        return digest.hexdigest()


def _query(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event, data)`` of each server-sent event, ``data`` decoded from JSON; a comment (keep-alive) is
    ``("comment", {})``."""
    event, data = "message", []
    for line in lines:
        if not line:
            if data:
                try:
                    decoded = json.loads("\n".join(data))
                except ValueError:
                    decoded = {"text": "\n".join(data)}
                yield event, decoded if isinstance(decoded, dict) else {"value": decoded}
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


def _inside(folder: Path, relative: str) -> Path:
    """``folder/relative``, refusing paths that would leave the folder."""
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder.resolve()) or target == folder.resolve():
        raise AifactoryError(f"refusing to write artifact {relative!r} outside {folder}")
    return target


# The client's tree of errors, imported after JobsMixin is defined so that either module may be imported first
# (aifactory.client imports JobsMixin while it is being built).
from .client import RETRY_ALWAYS, AifactoryError, ApiError, TransportError, error_from_response  # noqa: E402


class JobTimeout(AifactoryError, TimeoutError):
    """:meth:`JobsMixin.wait` gave up: the job was not over after ``timeout`` seconds (``job`` is its last
    known state; it goes on running)."""

    def __init__(self, job: Mapping[str, Any], timeout: float):
        self.job, self.job_id, self.timeout, self.state = dict(job), job["id"], timeout, job["state"]
        super().__init__(f"job {self.job_id} is still {self.state} after {timeout:g}s")


class ChecksumMismatch(AifactoryError):
    """A downloaded artifact's sha256 differs from the server's."""

    def __init__(self, job_id: int, path: str, expected: str, got: str):
        self.job_id, self.path, self.expected, self.got = job_id, path, expected, got
        super().__init__(f"artifact {path!r} of job {job_id}: sha256 {got} does not match the expected {expected}")
