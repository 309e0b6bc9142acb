"""The catalog: search, show, publish, run a template, publish a job's artifact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import ClientBase, Json, Page, without_none


class CatalogMixin(ClientBase):
    """Templates, models, datasets and stories."""

    def search_catalog(
        self,
        q: str | None = None,
        *,
        kind: str | None = None,
        tags: Sequence[str] = (),
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        return self._get_page("/catalog", q=q, kind=kind, tag=list(tags) or None, limit=limit, offset=offset)

    def get_catalog_item(self, kind: str, slug: str) -> Json:
        return self._get(f"/catalog/{kind}/{slug}")

    def publish_item(self, *, kind: str, slug: str, title: str, **fields: Any) -> Json:
        return self._call("POST", "/catalog", {"kind": kind, "slug": slug, "title": title, **fields})

    def run_template(
        self,
        name: str,
        *,
        project: int | str,
        params: Mapping[str, Any] | None = None,
        job_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        run = {"project": project, "params": dict(params or {})}
        run |= without_none(name=job_name, idempotency_key=idempotency_key)
        return self._call("POST", f"/templates/{name}/run", run)

    def publish_job_output(
        self, job_id: int, *, path: str, slug: str, title: str, kind: str = "model", **fields: Any
    ) -> Json:
        item = {"path": path, "kind": kind, "slug": slug, "title": title, **fields}
        return self._call("POST", f"/jobs/{job_id}/publish", item)
