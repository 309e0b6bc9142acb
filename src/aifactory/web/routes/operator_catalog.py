"""Operator pages: public catalog items waiting for approval (read them in full, approve or reject with a
reason). Until approved, a non-operator's public item is seen by its organization and operators only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...services import catalog_review
from ..forms import read_form
from ..render import redirect, render
from .operator import Operator, OperatorChecked, page_request, pager

router = APIRouter()


@router.get("/operator/catalog", response_class=HTMLResponse)
def pending_items(request: Request, viewer: Operator, offset: str | None = None) -> Response:
    with viewer.ctx.uow_factory(write=False) as uow:
        page = catalog_review.pending(uow, viewer.actor, page_request(offset))
        orgs = {
            i: o.name
            for i in {item.owner_organization_id for item in page.items if item.owner_organization_id}
            if (o := uow.organizations.get(i)) is not None
        }
    return render(request, viewer, "operator/catalog.html", items=page.items, orgs=orgs, pages=pager(page))


@router.post("/operator/catalog/{item_id:int}/decision")
async def decide(request: Request, viewer: OperatorChecked, item_id: int) -> Response:
    form = await read_form(request)
    approve = form.get("decision") == "approve"
    with viewer.ctx.uow_factory(write=True) as uow:
        item = catalog_review.review_item(
            uow, viewer.ctx.clock, viewer.actor, item_id, approve=approve, reason=form.get("reason", "")
        )
    t = viewer.t
    done = (
        t.gettext("%(title)s is listed now.", title=item.title)
        if approve
        else t.gettext("%(title)s was rejected.", title=item.title)
    )
    return redirect(viewer, "/operator/catalog", done)
