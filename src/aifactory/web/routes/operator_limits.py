"""Operators' page for a call's self-service limits: how many open or accepted proposals, and how many GPU-hours
in a rolling period, one organization's proposals are auto-approved for (an empty field: no cap). Over a limit a
proposal waits for an operator's decision instead (``services.proposals.submit``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.calls import Call
from ...domain.errors import DomainError
from ...services import calls
from ..forms import field_errors, read_form
from ..render import redirect, render
from ..viewer import Viewer
from .operator import Operator, OperatorChecked, Problems

router = APIRouter()
LIMIT_FIELDS = {"self_service_max_proposals", "self_service_max_gpu_hours", "self_service_period_months"}


def _form_of(call: Call) -> dict[str, str]:
    return {name: "" if getattr(call, name) is None else str(getattr(call, name)) for name in LIMIT_FIELDS}


def limit_fields(viewer: Viewer, form: dict[str, Any], *, partial: bool = False) -> dict[str, int | None]:
    """The limits as typed (empty: no cap; the period is required), or every problem at once; ``partial``: the
    fields the form does not have are left out (the call's defaults)."""
    check = Problems(viewer)
    fields = {
        "self_service_max_proposals": check.integer(form, "self_service_max_proposals", required=False, hi=1000),
        "self_service_max_gpu_hours": check.integer(form, "self_service_max_gpu_hours", required=False, hi=10**8),
        "self_service_period_months": check.integer(form, "self_service_period_months", lo=1, hi=60),
    }
    check.check()
    return {k: v for k, v in fields.items() if k in form} if partial else fields


def _page(
    request: Request,
    viewer: Viewer,
    call_id: int,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        call = calls.get_call(uow, call_id)
        view = {"id": call.id, "title": call.title, "auto": call.auto_approve_gpu_hours}
    return render(
        request,
        viewer,
        "operator/call_limits.html",
        status=status,
        call=view,
        form=form or _form_of(call),
        errors=errors or {},
    )


@router.get("/operator/calls/{call_id:int}/limits", response_class=HTMLResponse)
def limits_page(request: Request, viewer: Operator, call_id: int) -> Response:
    return _page(request, viewer, call_id)


@router.post("/operator/calls/{call_id:int}/limits", response_class=HTMLResponse)
async def save_limits(request: Request, viewer: OperatorChecked, call_id: int) -> Response:
    form = await read_form(request)
    try:
        changes = limit_fields(viewer, form)
        with viewer.ctx.uow_factory(write=True) as uow:
            call = calls.update_call(uow, viewer.ctx.clock, viewer.actor, call_id, changes)
            title = call.title
    except DomainError as exc:
        if exc.status == 404:
            raise
        errors = field_errors(exc, LIMIT_FIELDS)
        return _page(request, viewer, call_id, form=form, errors=errors, status=exc.status)
    return redirect(viewer, "/operator/calls", viewer.t.gettext("Self-service limits of %(title)s saved.", title=title))
