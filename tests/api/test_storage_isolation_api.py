"""A project's storage belongs to that project alone: for every storage operation of the OpenAPI document,
another tenant's project (or upload) answers exactly like one that does not exist, and nothing of theirs is
read, listed, changed or registered."""

from __future__ import annotations

import re
from typing import Any

from tests.support.api import Api
from tests.support.storage import files_path, start, upload, uploads_path

MISSING = 999_999
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/projects/{project_id}/storage/uploads"): {"name": "steal.csv", "size": 3},
    ("PUT", "/projects/{project_id}/storage/quota"): {"max_bytes": 1},
    ("POST", "/projects/{project_id}/storage/datasets"): {"path": "secret.csv", "slug": "stolen", "title": "Stolen"},
    ("POST", "/projects/{project_id}/storage/uploads/{upload_id}/complete"): {},
}


def _operations(api: Api) -> list[tuple[str, str]]:
    doc = api.client.get("/api/v1/openapi.json").json()
    return [
        (method.upper(), path.removeprefix("/api/v1"))
        for path, ops in doc["paths"].items()
        if "/storage" in path
        for method in ops
    ]


def _shape(r: Any, ident: int) -> tuple[Any, ...]:
    return r.status_code, r.headers.get("content-type"), re.sub(rf"\b{ident}\b", "N", r.text)


def _call(api: Api, method: str, path: str, values: dict[str, Any]) -> Any:
    url = path.format(**values)
    body = BODIES.get((method, path))
    if method == "PUT" and "upload_id" in path:
        return api.request(method, url, "anna", content=b"abc", headers={"Content-Range": "bytes 0-2/3"})
    return api.request(method, url, "anna", json=body)


def test_every_storage_route_answers_another_tenants_ids_like_missing_ones(api: Api) -> None:
    mine, theirs = api.project_of("bakery"), api.project_of("gridwise")
    upload(api, "daan", theirs, "secret.csv", b"a,b\n1,2\n")
    their_upload = start(api, "daan", theirs, "steal.csv", b"abc")["id"]
    own_upload = start(api, "anna", mine, "own.csv", b"abc")["id"]
    ops = _operations(api)
    assert len(ops) >= 10, ops  # every storage route is here
    differ = []
    for method, path in ops:
        base = {"project_id": mine, "upload_id": own_upload, "path": "secret.csv"}
        for name, foreign in (("project_id", theirs), ("upload_id", their_upload)):
            if "{" + name not in path:
                continue
            missing = _call(api, method, path, {**base, name: MISSING})
            other = _call(api, method, path, {**base, name: foreign})
            if _shape(missing, MISSING) != _shape(other, foreign) or other.status_code < 400:
                differ.append((method, path, name, missing.status_code, other.status_code, other.text[:160]))
    assert differ == [], "\n".join(map(str, differ))
    # nothing of theirs was touched
    listing = api.ok("GET", files_path(theirs), "daan")
    assert [f["name"] for f in listing["items"]] == ["secret.csv"] and listing["usage"]["max_bytes"] == 10 << 30
    assert api.ok("GET", uploads_path(theirs, their_upload), "daan")["offset"] == 0
    assert api.get(files_path(theirs, "secret.csv"), "daan").content == b"a,b\n1,2\n"
    assert "stolen" not in [i["slug"] for i in api.ok("GET", "/catalog?kind=dataset", "operator")["items"]]
