"""Jobs: submit a spec, list, show, cancel, and wait until one is over.

with AifactoryClient(url, token) as client:
    job = client.submit("train.yaml")          # or a dict; YAML files go to the server as YAML
    for text in client.follow_log(job["id"]):  # live, resumes after a dropped connection
        print(text, end="")
    job = client.wait(job["id"], timeout=3600)  # the final job; JobTimeout if it takes longer
    client.download_artifacts(job["id"], "out/")  # every artifact, sha256 verified
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from .base import ClientBase, HttpCall, Json, Page, decoded
from .errors import JobTimeout

TERMINAL_STATES = frozenset({"completed", "failed", "cancelled", "timeout"})

SpecLike = Mapping[str, Any] | str | os.PathLike[str]


class JobsMixin(ClientBase):
    """Jobs of your projects (operators: all)."""

    def save_artifact(self, job_id: int, path: str, *, to: str) -> Json:
        """Save an artifact of a completed job into its project's storage as ``to``; the stored file."""
        return self._call("POST", f"/jobs/{job_id}/artifacts/save", {"path": path, "to": to})

    def submit(self, spec: SpecLike) -> Json:
        """Submit a job: ``spec`` is a dict or the path of a YAML or JSON file (a YAML file is sent as
        ``application/yaml`` and parsed by the server, which names any bad field). Answers the job; a spec whose
        ``idempotency_key`` was used before answers the job submitted then."""
        if isinstance(spec, Mapping):
            return self._call("POST", "/jobs", dict(spec))
        path = Path(spec)
        content = path.read_bytes()  # OSError (FileNotFoundError, …) when it cannot be read
        kind = "application/json" if path.suffix.lower() == ".json" else "application/yaml"  # JSON is YAML too
        call = HttpCall("POST", f"{self.base_url}/jobs", content=content, headers={"Content-Type": kind})
        return cast(Json, decoded(self._send(call)))

    def list_jobs(
        self,
        *,
        project_id: int | None = None,
        state: str | None = None,
        mine: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """Jobs of your projects (operators: all), newest first; ``mine``: only those you submitted."""
        return self._get_page(
            "/jobs", project_id=project_id, state=state, mine=True if mine else None, limit=limit, offset=offset
        )

    def iter_jobs(
        self, *, project_id: int | None = None, state: str | None = None, page_size: int = 100
    ) -> Iterator[Json]:
        """Every visible job, fetched page by page."""
        return self._walk("/jobs", page_size, project_id=project_id, state=state)

    def get_job(self, job_id: int) -> Json:
        return self._get(f"/jobs/{job_id}")

    def cancel_job(self, job_id: int) -> Json:
        """Cancel a job (its submitter, the project's PI or an operator); a finished job stays as it is."""
        return self._call("POST", f"/jobs/{job_id}/cancel")

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
