"""Access calls: operators create and change them; everyone can list them."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..domain.access import Page, PageRequest
from ..domain.calls import Call, clean_texts, validate_call_settings
from ..domain.enums import OrgKind
from ..domain.errors import Conflict, InvalidInput
from ..domain.identity import normalize_country
from ..domain.questions import MAX_ATTACHMENT_BYTES, build_questions
from ..domain.sites import Site
from .audit import record, snapshot
from .context import Actor, found
from .ports import Clock, UnitOfWork
from .sites import check_slug

EDITABLE = frozenset(
    {
        "title",
        "description",
        "opens_on",
        "closes_on",
        "closed",
        "eligible_kinds",
        "eligible_countries",
        "min_gpu_hours",
        "max_gpu_hours",
        "auto_approve_gpu_hours",
        "required_reviews",
        "durations_months",
        "decision_working_days",
        "cutoff_days",
        "max_wall_hours",
        "enforcement",
        "resource_ids",
        "self_service_max_proposals",
        "self_service_max_gpu_hours",
        "self_service_period_months",
        "questions",
        "texts",
    }
)


def _normalize(uow: UnitOfWork, call: Call) -> None:
    call.eligible_kinds = [OrgKind(k).value for k in dict.fromkeys(call.eligible_kinds)]
    call.eligible_countries = list(
        dict.fromkeys(normalize_country(c, "eligible_countries") for c in call.eligible_countries)
    )
    call.durations_months = sorted(set(call.durations_months))
    call.cutoff_days = sorted(set(call.cutoff_days))
    call.texts = clean_texts(call.texts)
    site: Site = found(uow.sites.get(call.site_id), "site", call.site_id)
    offered = {r.id for r in site.resources}
    unknown = [r for r in call.resource_ids if r not in offered]
    if unknown:
        raise InvalidInput.on("resource_ids", f"resources {unknown} are not resources of site {site.slug!r}")
    validate_call_settings(call)


def _questions(fields: dict[str, Any], cap: int) -> dict[str, Any]:
    """The operator's question specs (dicts) as the call's questions, checked (domain.questions)."""
    if "questions" in fields:
        fields = {**fields, "questions": build_questions(list(fields["questions"] or []), cap)}
    return fields


def create_call(
    uow: UnitOfWork, clock: Clock, actor: Actor, *, attachment_cap: int = MAX_ATTACHMENT_BYTES, **fields: Any
) -> Call:
    """``attachment_cap``: the site's largest attachment (Settings.proposal_attachment_max_bytes)."""
    actor.require_operator()
    fields = _questions(fields, attachment_cap)
    check_slug(fields.get("slug", ""))
    if uow.calls.by_slug(fields["slug"]) is not None:
        raise Conflict(f"a call with slug {fields['slug']!r} already exists")
    call = Call(created_at=clock.now(), **fields)
    _normalize(uow, call)
    uow.calls.add(call)
    record(uow, clock, actor, "call.created", call, None, snapshot(call))
    uow.commit()
    return call


def update_call(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    call_id: int,
    changes: dict[str, Any],
    *,
    attachment_cap: int = MAX_ATTACHMENT_BYTES,
) -> Call:
    actor.require_operator()
    changes = _questions(changes, attachment_cap)
    call = found(uow.calls.get(call_id), "call", call_id)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput.on(sorted(unknown)[0], "cannot be changed")
    before = snapshot(call)
    for k, v in changes.items():
        setattr(call, k, v)
    _normalize(uow, call)
    record(uow, clock, actor, "call.updated", call, before, snapshot(call))
    uow.commit()
    return call


def list_calls(
    uow: UnitOfWork, page: PageRequest, *, access_mode: str | None = None, open_on: date | None = None
) -> Page[Call]:
    return uow.calls.list(page, access_mode=access_mode, open_on=open_on)


def get_call(uow: UnitOfWork, call_id: int) -> Call:
    return found(uow.calls.get(call_id), "call", call_id)
