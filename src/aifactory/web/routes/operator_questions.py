"""Operators' page for what a call asks applicants beyond the basics: each standard question (domain.questions
PRESETS) asked or not, required or not, and the largest PDF for the attachment. Questions of the call's own
(set through the API or ``aifactory calls update --questions @file``) are listed and kept as they are."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.errors import DomainError, FieldError, InvalidInput
from ...domain.questions import MIB, PRESETS, Question, QuestionKind
from ...services import calls
from ..formats import bytes_text
from ..forms import field_errors, read_form
from ..render import redirect, render
from ..viewer import Viewer
from .operator import Operator, OperatorChecked

router = APIRouter()


def _rows(asked: list[Question], lang: str) -> list[dict[str, Any]]:
    by_key = {q.key: q for q in asked}
    rows = []
    for key, preset in PRESETS.items():
        q = by_key.get(key, preset)
        rows.append(
            {
                "key": key,
                "title": q.title_in(lang),
                "help": q.help_in(lang),
                "kind": q.kind.value,
                "asked": key in by_key,
                "required": key in by_key and q.required,
                "max_mib": f"{q.max_bytes / MIB:g}",
            }
        )
    return rows


def _page(
    request: Request, viewer: Viewer, call_id: int, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        call = calls.get_call(uow, call_id)
        own = [q for q in call.questions if q.key not in PRESETS]
        view = {"id": call.id, "title": call.title}
        rows = _rows(call.questions, viewer.t.lang)
    return render(
        request,
        viewer,
        "operator/call_questions.html",
        status=status,
        call=view,
        rows=rows,
        own=[{"key": q.key, "title": q.title_in(viewer.t.lang), "required": q.required} for q in own],
        cap=bytes_text(viewer.ctx.settings.proposal_attachment_max_bytes, viewer.lang),
        errors=errors or {},
    )


def _chosen(form: dict[str, str], current: list[Question], viewer: Viewer) -> list[dict[str, Any]]:
    """The question specs the form asks for: the standard ones ticked, in their order, then the call's own."""
    specs: list[dict[str, Any]] = []
    for key, preset in PRESETS.items():
        if not form.get(f"ask-{key}"):
            continue
        kept = next((q for q in current if q.key == key), None)  # what was set through the API stays
        spec: dict[str, Any] = {
            **(kept.to_json() if kept else {"key": key}),
            "required": bool(form.get(f"required-{key}")),
        }
        if preset.kind is QuestionKind.ATTACHMENT:
            raw = form.get(f"max-{key}", "").strip().replace(",", ".")
            try:
                spec["max_bytes"] = int(float(raw) * MIB)
            except ValueError:
                message = viewer.t.gettext("enter a size in MiB, e.g. 10")
                raise InvalidInput(message, [FieldError(f"max-{key}", message)]) from None
        specs.append(spec)
    return specs + [q.to_json() for q in current if q.key not in PRESETS]


@router.get("/operator/calls/{call_id:int}/questions", response_class=HTMLResponse)
def questions_page(request: Request, viewer: Operator, call_id: int) -> Response:
    return _page(request, viewer, call_id)


@router.post("/operator/calls/{call_id:int}/questions", response_class=HTMLResponse)
async def save_questions(request: Request, viewer: OperatorChecked, call_id: int) -> Response:
    form = await read_form(request)
    cap = viewer.ctx.settings.proposal_attachment_max_bytes
    try:
        with viewer.ctx.uow_factory(write=True) as uow:
            current = calls.get_call(uow, call_id).questions
            changes = {"questions": _chosen(form, current, viewer)}
            call = calls.update_call(uow, viewer.ctx.clock, viewer.actor, call_id, changes, attachment_cap=cap)
            title = call.title
    except DomainError as exc:
        if exc.status == 404:
            raise
        aliases = {f"questions.{i}.max_bytes": "max-attachment" for i in range(len(PRESETS))}
        return _page(request, viewer, call_id, errors=field_errors(exc, None, aliases), status=exc.status)
    flash = viewer.t.gettext("What %(title)s asks applicants is saved.", title=title)
    return redirect(viewer, "/operator/calls", flash)
