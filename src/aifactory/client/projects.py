"""Projects and their members, allocations and their ledger (the operators' top-ups, corrections and
suspensions), and the audit log."""

from __future__ import annotations

from datetime import date, datetime

from .base import ClientBase, Json, Page, without_none


class ProjectsMixin(ClientBase):
    """Projects, allocations, ledgers and the audit log."""

    def list_projects(self, *, limit: int = 50, offset: int = 0) -> Page:
        return self._get_page("/projects", limit=limit, offset=offset)

    def get_project(self, project_id: int) -> Json:
        return self._get(f"/projects/{project_id}")

    def add_member(
        self, project_id: int, *, user_id: int | None = None, email: str | None = None, role: str = "member"
    ) -> Json:
        return self._call(
            "POST", f"/projects/{project_id}/members", without_none(user_id=user_id, email=email, role=role)
        )

    def remove_member(self, project_id: int, user_id: int) -> None:
        self.request("DELETE", f"/projects/{project_id}/members/{user_id}")

    def list_allocations(self, *, project_id: int | None = None, limit: int = 50, offset: int = 0) -> Page:
        return self._get_page("/allocations", project_id=project_id, limit=limit, offset=offset)

    def get_allocation(self, allocation_id: int) -> Json:
        return self._get(f"/allocations/{allocation_id}")

    def list_ledger(self, allocation_id: int, *, kind: str | None = None, limit: int = 50, offset: int = 0) -> Page:
        return self._get_page(f"/allocations/{allocation_id}/ledger", kind=kind, limit=limit, offset=offset)

    def adjust_allocation(self, allocation_id: int, gpu_hours: float, reason: str, *, key: str | None = None) -> Json:
        change = {"gpu_hours": gpu_hours, "reason": reason, **({"key": key} if key else {})}
        return self._call("POST", f"/allocations/{allocation_id}/adjust", change)

    def suspend_allocation(self, allocation_id: int, reason: str) -> Json:
        return self._call("POST", f"/allocations/{allocation_id}/suspend", {"reason": reason})

    def resume_allocation(self, allocation_id: int) -> Json:
        return self._call("POST", f"/allocations/{allocation_id}/resume")

    def audit(
        self,
        *,
        entity_type: str | None = None,
        entity_id: int | None = None,
        actor_id: int | None = None,
        action: str | None = None,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """The audit log (operators); ``since``/``until`` without an offset are read as UTC."""
        return self._get_page(
            "/audit",
            entity_type=entity_type,
            entity_id=entity_id,
            actor_id=actor_id,
            action=action,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
