from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status

from ...domain.enums import OrgKind
from ...services import consent, identity
from ...services.context import found
from ..deps import Ctx, CurrentActor, IdPath, IdQuery, Paging, Uow
from ..schemas.common import Page, page_of
from ..schemas.identity import OrganizationOut, RolesIn, UserCreate, UserCreated, UserOut, issued

router = APIRouter(tags=["organizations and users"])


@router.get(
    "/organizations",
    response_model=Page[OrganizationOut],
    summary="Organizations (public facts only). Operators list and search all; others find one by its exact "
    "name or id (q), and otherwise see those they work with",
)
def list_organizations(
    actor: CurrentActor,
    uow: Uow,
    page: Paging,
    kind: OrgKind | None = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    found = consent.find_organizations(uow, actor, page, q=q, kind=kind, country=country)
    return page_of(found, OrganizationOut.model_validate)


@router.get("/organizations/{org_id}", response_model=OrganizationOut)
def get_organization(org_id: IdPath, _: CurrentActor, uow: Uow) -> OrganizationOut:
    return OrganizationOut.model_validate(found(uow.organizations.get(org_id), "organization", org_id))


@router.get("/users", response_model=Page[UserOut], summary="Users: operators see all, others their organization")
def list_users(
    actor: CurrentActor,
    uow: Uow,
    page: Paging,
    organization_id: IdQuery = None,
    role: Literal["operator", "reviewer"] | None = None,
) -> dict[str, Any]:
    return page_of(
        identity.list_users(uow, actor, page, organization_id=organization_id, role=role), UserOut.model_validate
    )


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserCreated)
def create_user(body: UserCreate, actor: CurrentActor, uow: Uow, ctx: Ctx) -> UserCreated:
    user, tok = identity.create_user(uow, ctx.clock, actor, **body.model_dump(), ttl_days=ctx.settings.token_ttl_days)
    return UserCreated(user=UserOut.model_validate(user), token=issued(tok))


@router.patch("/users/{user_id}/roles", response_model=UserOut)
def set_roles(user_id: IdPath, body: RolesIn, actor: CurrentActor, uow: Uow, ctx: Ctx) -> UserOut:
    return UserOut.model_validate(identity.set_roles(uow, ctx.clock, actor, user_id, **body.model_dump()))
