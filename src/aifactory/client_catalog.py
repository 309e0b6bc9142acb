"""The catalog methods of :class:`aifactory.client.AifactoryClient`: search, show, publish, run a template,
publish a job's artifact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Json, Page


class CatalogMixin:
    """Mixed into :class:`~aifactory.client.AifactoryClient`; uses only its ``request`` and ``_get``."""

    if TYPE_CHECKING:

        def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any: ...
        def _get(self, path: str, **params: Any) -> Any: ...

    def search_catalog(
        self,
        q: str | None = None,
        *,
        kind: str | None = None,
        tags: Sequence[str] = (),
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        params = {"q": q, "kind": kind, "tag": list(tags) or None, "limit": limit, "offset": offset}
        return self.request("GET", "/catalog", params={k: v for k, v in params.items() if v is not None})

    def get_catalog_item(self, kind: str, slug: str) -> Json:
        return self._get(f"/catalog/{kind}/{slug}")

    def publish_item(self, *, kind: str, slug: str, title: str, **fields: Any) -> Json:
        return self.request("POST", "/catalog", json={"kind": kind, "slug": slug, "title": title, **fields})

    def run_template(
        self,
        name: str,
        *,
        project: int | str,
        params: Mapping[str, Any] | None = None,
        job_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        body: dict[str, Any] = {"project": project, "params": dict(params or {})}
        body |= {k: v for k, v in {"name": job_name, "idempotency_key": idempotency_key}.items() if v is not None}
        return self.request("POST", f"/templates/{name}/run", json=body)

    def publish_job_output(
        self, job_id: int, *, path: str, slug: str, title: str, kind: str = "model", **fields: Any
    ) -> Json:
        body = {"path": path, "kind": kind, "slug": slug, "title": title, **fields}
        return self.request("POST", f"/jobs/{job_id}/publish", json=body)
