"""A proposal's attachments, its readiness check, and reviewers' declarations of interests."""

from __future__ import annotations

import io
import re

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import FileResponse

from ...services import decisions, proposal_files, proposals
from ..deps import Ctx, CurrentActor, IdPath, Uow
from ..schemas.proposals import AssignmentOut, DeclarationIn
from ..schemas.questions import AttachmentOut, ChecksOut, Key, ProblemOut

router = APIRouter(tags=["proposals and reviews"])
#: PUT bodies up to the site's largest attachment (BodySizeLimit), not the API's usual limit
ATTACHMENT_PATH = re.compile(r"/api/v1/proposals/[0-9]+/attachments/[a-z][a-z0-9_]*")


@router.get(
    "/proposals/{proposal_id}/checks",
    response_model=ChecksOut,
    summary="What submission would refuse now, by section (applicants, while drafting)",
)
def checks(proposal_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ChecksOut:
    found = proposals.check(uow, ctx.clock, actor, proposal_id)
    problems = [ProblemOut(field=x.field, message=x.message, section=x.section) for x in found.problems]
    return ChecksOut(ready=not problems, problems=problems, waiting_for=found.waiting_for)


@router.get("/proposals/{proposal_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(proposal_id: IdPath, actor: CurrentActor, uow: Uow) -> list[AttachmentOut]:
    return [AttachmentOut.model_validate(a) for a in proposal_files.listed(uow, actor, proposal_id)]


@router.put(
    "/proposals/{proposal_id}/attachments/{key}",
    response_model=AttachmentOut,
    summary="Upload the PDF a call's attachment question asks for (the body is the file; replaces an earlier one)",
)
async def put_attachment(
    proposal_id: IdPath, key: Key, request: Request, actor: CurrentActor, uow: Uow, ctx: Ctx, filename: str = ""
) -> AttachmentOut:
    data = await request.body()  # bounded by the site's attachment limit (BodySizeLimit, ATTACHMENT_PATH)
    a = proposal_files.attach(
        uow, ctx.clock, actor, ctx.attachments, proposal_id, key, filename=filename or key, source=io.BytesIO(data)
    )
    return AttachmentOut.model_validate(a)


@router.get("/proposals/{proposal_id}/attachments/{key}", response_class=FileResponse)
def get_attachment(proposal_id: IdPath, key: Key, actor: CurrentActor, uow: Uow, ctx: Ctx) -> Response:
    a, path = proposal_files.open_attachment(uow, actor, ctx.attachments, proposal_id, key)
    return FileResponse(path, media_type="application/pdf", filename=a.filename, content_disposition_type="attachment")


@router.delete("/proposals/{proposal_id}/attachments/{key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_attachment(proposal_id: IdPath, key: Key, actor: CurrentActor, uow: Uow, ctx: Ctx) -> Response:
    proposal_files.remove(uow, ctx.clock, actor, ctx.attachments, proposal_id, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/proposals/{proposal_id}/declaration",
    response_model=AssignmentOut,
    summary="Declare your interests before you score (assigned reviewers): no conflict, or a conflict (recused)",
)
def declare(proposal_id: IdPath, body: DeclarationIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> AssignmentOut:
    a = decisions.declare_interests(uow, ctx.clock, actor, proposal_id, conflict=body.conflict, note=body.note)
    return AssignmentOut.model_validate(a)
