from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ...services import notifications
from ..deps import CurrentActor, IdQuery, Paging, Uow
from ..schemas.common import Page, page_of
from ..schemas.notifications import NotificationOut

router = APIRouter(tags=["notifications"])


@router.get(
    "/notifications",
    response_model=Page[NotificationOut],
    summary="Notifications of your projects' allocations, newest first (operators: all)",
)
def list_notifications(actor: CurrentActor, uow: Uow, page: Paging, project_id: IdQuery = None) -> dict[str, Any]:
    result = notifications.list_notifications(uow, actor, page, project_id=project_id)
    return page_of(result, NotificationOut.model_validate)
