"""The ledger of an allocation: its entries, and the operators' top-ups, corrections and suspensions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...domain.ledger import EntryKind
from ...services import ledger
from ..deps import Ctx, CurrentActor, IdPath, Paging, Uow
from ..schemas.common import Page, page_of
from ..schemas.projects import AdjustIn, AllocationOut, LedgerEntryOut, SuspendIn

router = APIRouter(tags=["projects, allocations and audit"])


@router.get(
    "/allocations/{allocation_id}/ledger",
    response_model=Page[LedgerEntryOut],
    summary="The allocation's ledger entries, newest first (members of the project, operators)",
)
def list_entries(
    allocation_id: IdPath,
    actor: CurrentActor,
    uow: Uow,
    page: Paging,
    kind: Annotated[EntryKind | None, Query()] = None,
) -> dict[str, Any]:
    result = ledger.entries(uow, actor, allocation_id, page, kind=kind.value if kind else None)
    return page_of(result, LedgerEntryOut.of)


@router.post(
    "/allocations/{allocation_id}/adjust",
    response_model=AllocationOut,
    summary="Top up (+) or correct (-) an allocation, with a reason (operators)",
)
def adjust(allocation_id: IdPath, body: AdjustIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> AllocationOut:
    alloc = ledger.adjust(uow, ctx.clock, actor, allocation_id, body.gpu_hours, body.reason, key=body.key)
    return AllocationOut.of(alloc, ctx.clock.now().date())


@router.post(
    "/allocations/{allocation_id}/suspend",
    response_model=AllocationOut,
    summary="Suspend an allocation: no new jobs; running ones finish and are charged (operators)",
)
def suspend(allocation_id: IdPath, body: SuspendIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> AllocationOut:
    alloc = ledger.set_suspended(uow, ctx.clock, actor, allocation_id, True, body.reason)
    return AllocationOut.of(alloc, ctx.clock.now().date())


@router.post(
    "/allocations/{allocation_id}/resume", response_model=AllocationOut, summary="Lift a suspension (operators)"
)
def resume(allocation_id: IdPath, actor: CurrentActor, uow: Uow, ctx: Ctx) -> AllocationOut:
    alloc = ledger.set_suspended(uow, ctx.clock, actor, allocation_id, False, "")
    return AllocationOut.of(alloc, ctx.clock.now().date())
