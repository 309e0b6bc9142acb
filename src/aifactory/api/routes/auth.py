from __future__ import annotations

from fastapi import APIRouter, Request, status

from ...domain.errors import InvalidInput
from ...services import accounts, identity, sessions
from ...web.viewer import session_cache
from ..deps import Ctx, CurrentActor, IdPath, Uow, client_address
from ..schemas.identity import (
    IssuedTokenOut,
    OrganizationOut,
    PasswordTokenIn,
    RegisteredOut,
    RegisterIn,
    ScopedTokenCreate,
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
    password = body.user.password
    try:
        password_hash = sessions.hash_password(password, body.user.email, body.user.name) if password else None
    except InvalidInput as exc:  # the policy names "password": here it is the body's user.password
        raise InvalidInput.on("user.password", str(exc).split(": ", 1)[-1]) from exc
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
        password_hash=password_hash,
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
def create_token(body: ScopedTokenCreate, actor: CurrentActor, uow: Uow, ctx: Ctx) -> IssuedTokenOut:
    return issued(identity.create_token(uow, ctx.clock, actor, **body.model_dump()))


@router.post(
    "/auth/token",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedTokenOut,
    summary="A new API token for an e-mail and password (what `aifactory login --email` uses)",
)
def token_for_password(body: PasswordTokenIn, request: Request, ctx: Ctx) -> IssuedTokenOut:
    """Throttled per account and client address: 429 with Retry-After while locked out."""
    return issued(
        accounts.token_for_password(
            ctx.uow_factory,
            ctx.clock,
            ctx.throttle,
            email=body.email,
            password=body.password,
            name=body.name,
            ttl_days=body.ttl_days,
            address=client_address(request),
        )
    )


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: IdPath, request: Request, actor: CurrentActor, uow: Uow, ctx: Ctx) -> TokenOut:
    """Portal sessions opened with the token end with it (this process forgets them at once)."""
    tok = identity.revoke_token(uow, ctx.clock, actor, token_id)
    session_cache(request).evict(token_id=token_id)
    return TokenOut.model_validate(tok)
