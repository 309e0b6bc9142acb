from __future__ import annotations

from fastapi import APIRouter, Request, status

from ...services import identity, sessions
from ...web.viewer import session_cache
from ..deps import Ctx, CurrentActor, IdPath, Uow
from ..schemas.identity import (
    IssuedTokenOut,
    OrganizationOut,
    PasswordTokenIn,
    RegisteredOut,
    RegisterIn,
    TokenCreate,
    TokenOut,
    UserOut,
    issued,
)

router = APIRouter(tags=["auth"])


@router.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=RegisteredOut,
    summary="Register an organization and its first user (who becomes its admin)",
)
def register(body: RegisterIn, uow: Uow, ctx: Ctx) -> RegisteredOut:
    org, user, tok = identity.register(
        uow,
        ctx.clock,
        organization_name=body.organization.name,
        kind=body.organization.kind,
        country=body.organization.country,
        sectors=[s.value for s in body.organization.sectors],
        email=body.user.email,
        name=body.user.name,
        ttl_days=ctx.settings.token_ttl_days,
    )
    return RegisteredOut(
        organization=OrganizationOut.model_validate(org), user=UserOut.model_validate(user), token=issued(tok)
    )


@router.get("/me", response_model=UserOut)
def me(actor: CurrentActor) -> UserOut:
    return UserOut.model_validate(actor.user)


@router.get("/tokens", response_model=list[TokenOut])
def my_tokens(actor: CurrentActor, uow: Uow) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in uow.tokens.for_user(actor.id)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED, response_model=IssuedTokenOut)
def create_token(body: TokenCreate, actor: CurrentActor, uow: Uow, ctx: Ctx) -> IssuedTokenOut:
    return issued(identity.create_token(uow, ctx.clock, actor, name=body.name, ttl_days=body.ttl_days))


@router.post(
    "/auth/token",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedTokenOut,
    summary="A new API token for an e-mail and password (what `aifactory login --email` uses)",
)
def token_for_password(body: PasswordTokenIn, uow: Uow, ctx: Ctx) -> IssuedTokenOut:
    return issued(
        sessions.token_for_password(
            uow, ctx.clock, email=body.email, password=body.password, name=body.name, ttl_days=body.ttl_days
        )
    )


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: IdPath, request: Request, actor: CurrentActor, uow: Uow, ctx: Ctx) -> TokenOut:
    """Portal sessions opened with the token end with it (this process forgets them at once)."""
    tok = identity.revoke_token(uow, ctx.clock, actor, token_id)
    session_cache(request).evict(token_id=token_id)
    return TokenOut.model_validate(tok)
