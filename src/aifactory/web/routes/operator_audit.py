"""The audit log for operators: newest first, filtered by actor, action, entity and date range, paged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import FieldError, InvalidInput
from ...services import audit
from ..forms import field_errors
from ..render import render
from ..viewer import Viewer
from .operator import Operator, Problems, page_request, pager

router = APIRouter()
FILTERS = ("actor", "action", "entity_type", "entity_id", "since", "until")


def _filters(viewer: Viewer, uow: Any, raw: dict[str, str]) -> dict[str, Any]:
    """Service filters from the form's text: an actor by e-mail or id, dates as whole UTC days (inclusive)."""
    check = Problems(viewer)
    out: dict[str, Any] = {}
    who = raw["actor"]
    if who:
        user = uow.users.by_email(who) if "@" in who else (uow.users.get(int(who)) if who.isdigit() else None)
        if user is None:
            check.errors.append(FieldError("actor", viewer.t.gettext("no user with this e-mail address or id")))
        else:
            out["actor_id"] = user.id
    for name in ("action", "entity_type"):
        if raw[name]:
            out[name] = raw[name]
    if raw["entity_id"]:
        out["entity_id"] = check.integer(raw, "entity_id", lo=0, hi=2**62)
    since, until = check.day(raw, "since"), check.day(raw, "until")
    if since and until and until < since:
        check.errors.append(FieldError("until", viewer.t.gettext("must not be before the first day")))
    check.check()
    if since:
        out["since"] = datetime.combine(since, time.min, tzinfo=UTC)
    if until:
        out["until"] = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
    return out


def _rows(uow: Any, events: list[Any]) -> list[dict[str, Any]]:
    names = {i: u.name for i in {e.actor_id for e in events if e.actor_id} if (u := uow.users.get(i)) is not None}
    return [
        {
            "id": e.id,
            "at": e.occurred_at,
            "actor": names.get(e.actor_id, "–" if e.actor_id is None else str(e.actor_id)),
            "action": e.action,
            "entity_type": e.entity_type,
            "entity_id": e.entity_id,
            "before": _json(e.before),
            "after": _json(e.after),
        }
        for e in events
    ]


def _json(value: Any) -> str:
    if not value:
        return ""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 2000 else text[:2000] + "…"


@router.get("/operator/audit", response_class=HTMLResponse)
def audit_log(request: Request, viewer: Operator, offset: str | None = None) -> Response:
    raw = {k: request.query_params.get(k, "").strip()[:200] for k in FILTERS}
    query = urlencode({k: v for k, v in raw.items() if v})
    with viewer.ctx.uow_factory(write=False) as uow:
        try:
            filters = _filters(viewer, uow, raw)
        except InvalidInput as exc:
            return render(
                request,
                viewer,
                "operator/audit.html",
                status=422,
                form=raw,
                rows=[],
                pages=None,
                errors=field_errors(exc, set(FILTERS)),
                query="",
            )
        page = audit.list_events(uow, viewer.actor, page_request(offset, 50), **filters)
        rows = _rows(uow, page.items)
    return render(
        request, viewer, "operator/audit.html", form=raw, rows=rows, pages=pager(page), errors={}, query=query
    )
