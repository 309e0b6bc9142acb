"""Writing and reading the audit log."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from ..domain.access import Page, PageRequest
from ..domain.audit import AuditEvent
from .context import Actor
from .ports import Clock, UnitOfWork


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if is_dataclass(value):
        return snapshot(value)
    return value


def snapshot(obj: Any, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A JSON-safe copy of an entity's scalar fields (relationships of entities are left out, and so are
    secrets: fields declared with ``repr=False``, such as a password hash)."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        if (only is not None and f.name not in only) or not f.repr:
            continue
        value = getattr(obj, f.name)
        if isinstance(value, list) and value and is_dataclass(value[0]):
            continue
        out[f.name] = _plain(value)
    return out


def record(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor | None,
    action: str,
    entity: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Append one event in the caller's transaction: it commits or rolls back with the change."""
    changed_before, changed_after = before, after
    if before is not None and after is not None:  # keep only what changed
        keys = [k for k in after if before.get(k) != after.get(k)]
        changed_before = {k: before.get(k) for k in keys}
        changed_after = {k: after[k] for k in keys}
    uow.audit.add(
        AuditEvent(
            occurred_at=clock.now(),
            actor_id=actor.id if actor else None,
            action=action,
            entity_type=type(entity).__name__.lower(),
            entity_id=getattr(entity, "id", None),
            before=changed_before,
            after=changed_after,
        )
    )


def list_events(uow: UnitOfWork, actor: Actor, page: PageRequest, **filters: Any) -> Page[AuditEvent]:
    actor.require_operator()
    return uow.audit.list(page, **filters)
