"""Operator pages for the factory's set-up: calls (list, create, open/close), sites and their resources,
and users with their roles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.calls import DEFAULT_MAX_GPU_HOURS, DEFAULT_MAX_PROPOSALS, DEFAULT_PERIOD_MONTHS
from ...domain.enums import AccessMode, OrgKind
from ...domain.errors import DomainError, FieldError, InvalidInput
from ...services import calls, identity, sites
from ..forms import field_errors, read_form, read_multi
from ..render import redirect, render
from ..viewer import Viewer
from .operator import Operator, OperatorChecked, Problems, page_request, pager
from .operator_limits import LIMIT_FIELDS, limit_fields

DEFAULT_LIMITS = {"self_service_period_months": str(DEFAULT_PERIOD_MONTHS)}  # a form without the limits: defaults

router = APIRouter()
CALL_FIELDS = {
    "slug",
    "title",
    "access_mode",
    "site_id",
    "description",
    "opens_on",
    "closes_on",
    "min_gpu_hours",
    "max_gpu_hours",
    "auto_approve_gpu_hours",
    "required_reviews",
    "durations_months",
    "decision_working_days",
    "cutoff_days",
    "max_wall_hours",
    "resource_ids",
    "eligible_kinds",
    *LIMIT_FIELDS,
}
RESOURCE_FIELDS = {
    "site_id",
    "name",
    "description",
    "gpu_model",
    "nodes",
    "gpus_per_node",
    "cpus_per_node",
    "memory_gb_per_node",
    "gpu_billing_weight",
    "cpu_billing_weight",
    "memory_billing_weight",
}
ROLES = ("is_reviewer", "is_operator", "active")


def _sites(viewer: Viewer) -> list[dict[str, Any]]:
    with viewer.ctx.uow_factory(write=False) as uow:
        return [
            {
                "id": s.id,
                "slug": s.slug,
                "name": s.name,
                "country": s.country,
                "resources": [
                    {
                        "id": r.id,
                        "name": r.name,
                        "gpu_model": r.gpu_model,
                        "nodes": r.nodes,
                        "gpus_per_node": r.gpus_per_node,
                        "cpus_per_node": r.cpus_per_node,
                        "memory_gb_per_node": r.memory_gb_per_node,
                        "gpus": r.total_gpus,
                        "weights": (r.gpu_billing_weight, r.cpu_billing_weight, r.memory_billing_weight),
                    }
                    for r in s.resources
                ],
            }
            for s in uow.sites.list_all()
        ]


# ------------------------------------------------------------------ calls


def _calls_page(
    request: Request,
    viewer: Viewer,
    offset: str | None,
    *,
    status: int = 200,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    today = viewer.ctx.clock.now().date()
    with viewer.ctx.uow_factory(write=False) as uow:
        page = calls.list_calls(uow, page_request(offset))
        rows = [
            {
                "id": c.id,
                "title": c.title,
                "slug": c.slug,
                "mode": c.access_mode,
                "open": c.is_open(today),
                "closed": c.closed,
                "min": c.min_gpu_hours,
                "max": c.max_gpu_hours,
                "opens_on": c.opens_on,
                "closes_on": c.closes_on,
                "reviews": c.required_reviews,
            }
            for c in page.items
        ]
    site_list = _sites(viewer)
    return render(
        request,
        viewer,
        "operator/calls.html",
        status=status,
        rows=rows,
        pages=pager(page),
        sites=site_list,
        site_options=[("", "–")] + [(s["id"], s["name"]) for s in site_list],
        kinds=[k.value for k in OrgKind],
        form=form
        or {
            "opens_on": today.isoformat(),
            "min_gpu_hours": "1",
            "required_reviews": "1",
            "durations_months": "1, 2, 3",
            "decision_working_days": "10",
            "max_wall_hours": "24",
            "resource_ids": [],
            "eligible_kinds": [],
            "self_service_max_proposals": str(DEFAULT_MAX_PROPOSALS),
            "self_service_max_gpu_hours": str(DEFAULT_MAX_GPU_HOURS),
            "self_service_period_months": str(DEFAULT_PERIOD_MONTHS),
        },
        errors=errors or {},
    )


@router.get("/operator/calls", response_class=HTMLResponse)
def call_list(request: Request, viewer: Operator, offset: str | None = None) -> Response:
    return _calls_page(request, viewer, offset)


def _split(raw: str) -> list[str]:
    return [x.strip() for x in raw.replace(";", ",").split(",") if x.strip()]


def _call_fields(viewer: Viewer, form: dict[str, Any]) -> dict[str, Any]:
    check = Problems(viewer)
    fields: dict[str, Any] = {
        "slug": form.get("slug", "").strip(),
        "title": form.get("title", "").strip(),
        "description": form.get("description", ""),
    }
    if not fields["title"]:
        check.errors.append(FieldError("title", viewer.t.gettext("required")))
    if form.get("access_mode") not in {m.value for m in AccessMode}:
        check.errors.append(FieldError("access_mode", viewer.t.gettext("choose an access mode")))
    fields["access_mode"] = form.get("access_mode")
    fields["site_id"] = check.integer(form, "site_id", lo=1)
    fields["opens_on"] = check.day(form, "opens_on", required=True)
    fields["closes_on"] = check.day(form, "closes_on")
    for name, required, lo, hi in (
        ("min_gpu_hours", True, 1, 10**9),
        ("max_gpu_hours", True, 1, 10**9),
        ("auto_approve_gpu_hours", False, 1, 10**9),
        ("required_reviews", True, 0, 10),
        ("decision_working_days", True, 0, 120),
        ("max_wall_hours", True, 1, 10_000),
    ):
        fields[name] = check.integer(form, name, required=required, lo=lo, hi=hi)
    fields["durations_months"] = check.int_list(_split(form.get("durations_months", "")), "durations_months")
    fields["cutoff_days"] = check.int_list(_split(form.get("cutoff_days", "")), "cutoff_days")
    fields["resource_ids"] = check.int_list(form["resource_ids"], "resource_ids")
    fields["eligible_kinds"] = [k for k in form["eligible_kinds"] if k in {o.value for o in OrgKind}]
    try:
        limits = limit_fields(viewer, {**DEFAULT_LIMITS, **form}, partial=True)
    except InvalidInput as exc:
        check.errors.extend(exc.errors)
        limits = {}
    check.check()
    fields["access_mode"] = AccessMode(fields["access_mode"])
    return {k: v for k, v in fields.items() if v is not None} | limits  # an empty cap: none


@router.post("/operator/calls", response_class=HTMLResponse)
async def create_call(request: Request, viewer: OperatorChecked) -> Response:
    form: dict[str, Any] = dict(await read_form(request))
    form["resource_ids"] = await read_multi(request, "resource_ids")
    form["eligible_kinds"] = await read_multi(request, "eligible_kinds")
    try:
        fields = _call_fields(viewer, form)
        with viewer.ctx.uow_factory(write=True) as uow:
            call = calls.create_call(uow, viewer.ctx.clock, viewer.actor, **fields)
            title = call.title
    except DomainError as exc:
        errors = {"site_id": str(exc)} if exc.status == 404 else field_errors(exc, CALL_FIELDS)
        return _calls_page(
            request, viewer, None, status=422 if exc.status == 404 else exc.status, form=form, errors=errors
        )
    return redirect(viewer, "/operator/calls", viewer.t.gettext("Call %(title)s created.", title=title))


@router.post("/operator/calls/{call_id:int}/toggle")
async def toggle_call(viewer: OperatorChecked, call_id: int) -> Response:
    with viewer.ctx.uow_factory(write=True) as uow:
        call = calls.get_call(uow, call_id)
        closed = not call.closed
        calls.update_call(uow, viewer.ctx.clock, viewer.actor, call_id, {"closed": closed})
    text = viewer.t.gettext("Call closed.") if closed else viewer.t.gettext("Call reopened.")
    return redirect(viewer, "/operator/calls", text)


# ------------------------------------------------------------------ sites and resources


def _resources_page(
    request: Request,
    viewer: Viewer,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    site_list = _sites(viewer)
    return render(
        request,
        viewer,
        "operator/resources.html",
        status=status,
        sites=site_list,
        site_options=[(s["id"], s["name"]) for s in site_list],
        form=form
        or {
            "nodes": "1",
            "gpus_per_node": "4",
            "cpus_per_node": "64",
            "memory_gb_per_node": "256",
            "gpu_billing_weight": "1.0",
            "cpu_billing_weight": "0",
            "memory_billing_weight": "0",
        },
        errors=errors or {},
    )


@router.get("/operator/resources", response_class=HTMLResponse)
def resource_list(request: Request, viewer: Operator) -> Response:
    return _resources_page(request, viewer)


def _resource_fields(viewer: Viewer, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    check = Problems(viewer)
    site_id = check.integer(form, "site_id", lo=1)
    fields: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "description": form.get("description", ""),
        "gpu_model": form.get("gpu_model", "").strip() or None,
    }
    for name in ("nodes", "gpus_per_node", "cpus_per_node", "memory_gb_per_node"):
        fields[name] = check.integer(form, name, lo=0, hi=10**9)
    for name, default in (("gpu_billing_weight", 1.0), ("cpu_billing_weight", 0.0), ("memory_billing_weight", 0.0)):
        fields[name] = check.number(form, name, default)
    check.check()
    return site_id or 0, fields


@router.post("/operator/resources", response_class=HTMLResponse)
async def add_resource(request: Request, viewer: OperatorChecked) -> Response:
    form = await read_form(request)
    try:
        site_id, fields = _resource_fields(viewer, form)
        with viewer.ctx.uow_factory(write=True) as uow:
            name = sites.add_resource(uow, viewer.ctx.clock, viewer.actor, site_id, **fields).name
    except DomainError as exc:
        errors = field_errors(exc, RESOURCE_FIELDS)
        if exc.status == 404:
            errors = {"site_id": str(exc)}
        return _resources_page(
            request, viewer, status=422 if exc.status == 404 else exc.status, form=form, errors=errors
        )
    return redirect(viewer, "/operator/resources", viewer.t.gettext("Resource %(name)s added.", name=name))


# ------------------------------------------------------------------ users and roles


@router.get("/operator/users", response_class=HTMLResponse)
def user_list(request: Request, viewer: Operator, offset: str | None = None, role: str | None = None) -> Response:
    role = role if role in ("reviewer", "operator") else None
    with viewer.ctx.uow_factory(write=False) as uow:
        page = identity.list_users(uow, viewer.actor, page_request(offset, 50), role=role)
        orgs = {
            i: o.name
            for i in {u.organization_id for u in page.items if u.organization_id}
            if (o := uow.organizations.get(i)) is not None
        }
        rows = [
            {
                "id": u.id,
                "name": u.name,
                "email": u.email,
                "org": orgs.get(u.organization_id, "") if u.organization_id is not None else "",
                "is_reviewer": u.is_reviewer,
                "is_operator": u.is_operator,
                "active": u.active,
                "me": u.id == viewer.actor.id,
            }
            for u in page.items
        ]
    return render(request, viewer, "operator/users.html", rows=rows, pages=pager(page), role=role or "")


@router.get("/operator/users/{user_id:int}/roles")
def role_question_again(viewer: Operator, user_id: int) -> Response:
    """The confirmation's address opened again (the language switch, a reload): back to the users."""
    return redirect(viewer, "/operator/users")


@router.post("/operator/users/{user_id:int}/roles")
async def set_role(request: Request, viewer: OperatorChecked, user_id: int) -> Response:
    """Two steps: the role buttons only show what would change (nothing is changed); the confirmation's
    button, posting the same values with ``confirm=yes``, changes it."""
    form = await read_form(request)
    role, value = form.get("role", ""), form.get("value", "")
    if role not in ROLES or value not in ("0", "1"):
        raise InvalidInput.on("role", viewer.t.gettext("unknown role or value"))
    asked = {role: value == "1"}
    offset = form.get("offset", "") if form.get("offset", "").isdigit() else ""
    back = "/operator/users" + (f"?offset={offset}" if offset else "")
    if form.get("confirm") != "yes":
        with viewer.ctx.uow_factory(write=False) as uow:
            target, changes = identity.role_changes(uow, viewer.actor, user_id, **asked)
        person = {"id": target.id, "name": target.name, "email": target.email}
        fields = {"role": role, "value": value, "offset": offset}
        return render(
            request, viewer, "operator/confirm_roles.html", person=person, changes=changes, fields=fields, back=back
        )
    with viewer.ctx.uow_factory(write=True) as uow:
        target, changes = identity.role_changes(uow, viewer.actor, user_id, **asked)
        name = target.name
        if changes:
            identity.set_roles(uow, viewer.ctx.clock, viewer.actor, user_id, **changes)
    if not changes:
        return redirect(viewer, back, viewer.t.gettext("Nothing changed for %(name)s.", name=name))
    return redirect(viewer, back, viewer.t.gettext("Roles of %(name)s changed.", name=name))
