from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from ...domain.enums import AccessMode
from ...services import calls, sites
from ...services.context import found
from ..deps import Ctx, CurrentActor, IdPath, Paging, Uow
from ..schemas.calls import CallCreate, CallOut, CallSettings, ResourceIn, ResourceOut, SiteIn, SiteOut
from ..schemas.common import Page, page_of

router = APIRouter(tags=["sites and calls"])


def call_out(c, ctx) -> CallOut:  # type: ignore[no-untyped-def]
    fields = {name: getattr(c, name) for name in CallOut.model_fields if name != "is_open"}
    return CallOut(**fields, is_open=c.is_open(ctx.clock.now().date()))


@router.get("/sites", response_model=list[SiteOut])
def list_sites(_: CurrentActor, uow: Uow) -> list[SiteOut]:
    return [SiteOut.model_validate(s) for s in uow.sites.list_all()]


@router.post("/sites", status_code=status.HTTP_201_CREATED, response_model=SiteOut)
def create_site(body: SiteIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> SiteOut:
    return SiteOut.model_validate(sites.create_site(uow, ctx.clock, actor, **body.model_dump()))


@router.post("/sites/{site_id}/resources", status_code=status.HTTP_201_CREATED, response_model=ResourceOut)
def add_resource(site_id: IdPath, body: ResourceIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> ResourceOut:
    return ResourceOut.model_validate(sites.add_resource(uow, ctx.clock, actor, site_id, **body.model_dump()))


@router.get("/resources/{resource_id}", response_model=ResourceOut)
def get_resource(resource_id: IdPath, _: CurrentActor, uow: Uow) -> ResourceOut:
    return ResourceOut.model_validate(found(uow.resources.get(resource_id), "resource", resource_id))


@router.get("/calls", response_model=Page[CallOut])
def list_calls(
    _: CurrentActor, uow: Uow, ctx: Ctx, page: Paging, access_mode: AccessMode | None = None, open: bool = False
) -> dict[str, Any]:
    result = calls.list_calls(uow, page, access_mode=access_mode, open_on=ctx.clock.now().date() if open else None)
    return page_of(result, lambda c: call_out(c, ctx))


@router.get("/calls/{call_id}", response_model=CallOut)
def get_call(call_id: IdPath, _: CurrentActor, uow: Uow, ctx: Ctx) -> CallOut:
    return call_out(calls.get_call(uow, call_id), ctx)


@router.post("/calls", status_code=status.HTTP_201_CREATED, response_model=CallOut)
def create_call(body: CallCreate, actor: CurrentActor, uow: Uow, ctx: Ctx) -> CallOut:
    fields = body.model_dump(exclude_none=True)
    uncapped = {"self_service_max_proposals", "self_service_max_gpu_hours"} & body.model_fields_set
    fields |= {name: None for name in uncapped if getattr(body, name) is None}  # null: no cap (left out: default)
    cap = ctx.settings.proposal_attachment_max_bytes
    return call_out(calls.create_call(uow, ctx.clock, actor, attachment_cap=cap, **fields), ctx)


@router.patch("/calls/{call_id}", response_model=CallOut)
def update_call(call_id: IdPath, body: CallSettings, actor: CurrentActor, uow: Uow, ctx: Ctx) -> CallOut:
    changes = body.model_dump(exclude_unset=True)
    cap = ctx.settings.proposal_attachment_max_bytes
    return call_out(calls.update_call(uow, ctx.clock, actor, call_id, changes, attachment_cap=cap), ctx)
