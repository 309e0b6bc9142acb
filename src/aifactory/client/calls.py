"""Sites, their resources (partitions) and the access calls that offer them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import ClientBase, Json, Page, without_none


class CallsMixin(ClientBase):
    """Sites, resources and calls."""

    def list_sites(self) -> list[Json]:
        return self._get_list("/sites")

    def create_site(
        self, *, slug: str, name: str, country: str, holiday_subdivision: str | None = None, description: str = ""
    ) -> Json:
        site = without_none(
            slug=slug, name=name, country=country, holiday_subdivision=holiday_subdivision, description=description
        )
        return self._call("POST", "/sites", site)

    def add_resource(self, site_id: int, **fields: Any) -> Json:
        """A partition of a site: ``name``, ``nodes``, ``gpus_per_node``, ``cpus_per_node``,
        ``memory_gb_per_node``, optionally ``gpu_model``, ``description`` and billing weights."""
        return self._call("POST", f"/sites/{site_id}/resources", without_none(**fields))

    def get_resource(self, resource_id: int) -> Json:
        return self._get(f"/resources/{resource_id}")

    def list_calls(
        self, *, access_mode: str | None = None, open_only: bool = False, limit: int = 50, offset: int = 0
    ) -> Page:
        """Calls, optionally only those open for submissions today."""
        return self._get_page("/calls", access_mode=access_mode, open=open_only or None, limit=limit, offset=offset)

    def get_call(self, call_id: int) -> Json:
        return self._get(f"/calls/{call_id}")

    def create_call(self, *, clear: Sequence[str] = (), **settings: Any) -> Json:
        """``slug``, ``title``, ``access_mode``, ``site_id``, ``opens_on``, ``max_gpu_hours``, ``resource_ids``
        and any other call setting (see the API's ``CallCreate``); ``clear`` names settings sent as null (e.g.
        ``self_service_max_proposals``: no cap)."""
        return self._call("POST", "/calls", without_none(**settings) | dict.fromkeys(clear))

    def update_call(self, call_id: int, *, clear: Sequence[str] = (), **changes: Any) -> Json:
        """Only the given settings change (None means "leave as is"); ``clear`` names settings set to null
        (``closes_on``: rolling, ``auto_approve_gpu_hours``: none, a self-service cap: no cap)."""
        return self._call("PATCH", f"/calls/{call_id}", without_none(**changes) | dict.fromkeys(clear))
