"""Project storage in the tests: uploads through the JSON API (``Api``) in chunks, and the sha256 of bytes."""

from __future__ import annotations

import hashlib
from typing import Any

from .api import Api


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_path(project: int, name: str = "") -> str:
    return f"/projects/{project}/storage/files" + (f"/{name}" if name else "")


def uploads_path(project: int, upload: int | None = None) -> str:
    return f"/projects/{project}/storage/uploads" + (f"/{upload}" if upload is not None else "")


def start(api: Api, who: str, project: int, name: str, data: bytes, *, with_sha: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "size": len(data)} | ({"sha256": sha(data)} if with_sha else {})
    created: dict[str, Any] = api.ok("POST", uploads_path(project), who, status=201, json=body)
    return created


def chunk(api: Api, who: str, project: int, upload: int, data: bytes, start_at: int, end: int) -> Any:
    """PUT bytes ``start_at``..``end`` (inclusive) of ``data``; the raw response."""
    headers = {"Content-Range": f"bytes {start_at}-{end}/{len(data)}", "Content-Type": "application/octet-stream"}
    return api.request("PUT", uploads_path(project, upload), who, content=data[start_at : end + 1], headers=headers)


def upload(api: Api, who: str, project: int, name: str, data: bytes, chunk_size: int = 4096) -> dict[str, Any]:
    """The whole upload: created, sent in order in chunks, completed; the stored file."""
    created = start(api, who, project, name, data)
    for at in range(0, len(data), chunk_size):
        r = chunk(api, who, project, created["id"], data, at, min(at + chunk_size, len(data)) - 1)
        assert r.status_code == 200, r.text
    stored: dict[str, Any] = api.ok("POST", uploads_path(project, created["id"]) + "/complete", who, status=201)
    return stored
