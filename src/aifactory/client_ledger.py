"""The ledger methods of :class:`aifactory.client.AifactoryClient`: an allocation's entries, and the
operators' top-ups, corrections and suspensions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Json, Page


class LedgerMixin:
    """Mixed into :class:`~aifactory.client.AifactoryClient`; uses only its ``request`` and ``_get``."""

    if TYPE_CHECKING:

        def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> Any: ...
        def _get(self, path: str, **params: Any) -> Any: ...

    def list_ledger(self, allocation_id: int, *, kind: str | None = None, limit: int = 50, offset: int = 0) -> Page:
        return self._get(f"/allocations/{allocation_id}/ledger", kind=kind, limit=limit, offset=offset)

    def adjust_allocation(self, allocation_id: int, gpu_hours: float, reason: str, *, key: str | None = None) -> Json:
        body = {"gpu_hours": gpu_hours, "reason": reason, **({"key": key} if key else {})}
        return self.request("POST", f"/allocations/{allocation_id}/adjust", json=body)

    def suspend_allocation(self, allocation_id: int, reason: str) -> Json:
        return self.request("POST", f"/allocations/{allocation_id}/suspend", json={"reason": reason})

    def resume_allocation(self, allocation_id: int) -> Json:
        return self.request("POST", f"/allocations/{allocation_id}/resume")
