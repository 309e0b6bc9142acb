"""A proposal's attachments on the portal: uploaded on the wizard's plan step (a plain multipart form, no
JavaScript needed), downloaded by whoever may read the proposal, removed while it is a draft."""

from __future__ import annotations

import contextlib
import re

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.datastructures import UploadFile

from ...domain.errors import InvalidInput, NotFound, TooLarge
from ...services import proposal_files
from .. import security as sec
from ..proposal_form import sort_errors, wizard_steps
from ..render import redirect
from ..viewer import SignedIn, SignedInChecked, Viewer, verify_token
from .proposal_wizard import Shown, questions_of, wizard_page

router = APIRouter()
#: POST bodies up to the site's largest attachment (api.problems.BodySizeLimit), not the portal's usual limit
PORTAL_ATTACHMENT_PATH = re.compile(r"/proposals/[0-9]+/attachments/[a-z][a-z0-9_]*")


def _plan_step(viewer: Viewer, proposal_id: int) -> tuple[int, list[str]]:
    steps = wizard_steps(bool(questions_of(viewer, proposal_id)))
    return (steps.index("plan") + 1 if "plan" in steps else 1), steps


@router.get("/proposals/{proposal_id:int}/attachments/{key}")
def download(viewer: SignedIn, proposal_id: int, key: str) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        a, path = proposal_files.open_attachment(uow, viewer.actor, viewer.ctx.attachments, proposal_id, key[:40])
    return FileResponse(path, media_type="application/pdf", filename=a.filename, content_disposition_type="attachment")


@router.post("/proposals/{proposal_id:int}/attachments/{key}", response_class=HTMLResponse)
async def upload(request: Request, viewer: SignedIn, proposal_id: int, key: str) -> Response:
    form = await request.form(max_fields=20, max_files=1)  # the CSRF token travels in this multipart form
    verify_token(viewer, form.get(sec.CSRF_FIELD))
    step, steps = _plan_step(viewer, proposal_id)
    file = form.get("file")
    try:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput.on(f"attachments.{key}", viewer.t.gettext("choose a PDF file first"))
        with viewer.ctx.uow_factory(write=True) as uow:
            proposal_files.attach(
                uow,
                viewer.ctx.clock,
                viewer.actor,
                viewer.ctx.attachments,
                proposal_id,
                key[:40],
                filename=file.filename,
                source=file.file,
            )
    except (InvalidInput, TooLarge) as exc:
        problem = exc if isinstance(exc, InvalidInput) else InvalidInput.on(f"attachments.{key}", exc.message)
        errors, top = sort_errors(problem, step, steps, viewer.t)
        return wizard_page(request, viewer, proposal_id, step, Shown(errors, top), status=422)
    flash = viewer.t.gettext("The file is attached.")
    return redirect(viewer, f"/proposals/{proposal_id}/edit?step={step}#attach-{key}", flash)


@router.post("/proposals/{proposal_id:int}/attachments/{key}/delete", response_class=HTMLResponse)
def delete(viewer: SignedInChecked, proposal_id: int, key: str) -> Response:
    step, _ = _plan_step(viewer, proposal_id)
    with viewer.ctx.uow_factory(write=True) as uow, contextlib.suppress(NotFound):  # already gone: shown so
        proposal_files.remove(uow, viewer.ctx.clock, viewer.actor, viewer.ctx.attachments, proposal_id, key[:40])
    return redirect(viewer, f"/proposals/{proposal_id}/edit?step={step}", viewer.t.gettext("The file is removed."))
