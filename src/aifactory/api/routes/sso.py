"""Single sign-on for the command line client (``aifactory login --sso``): which providers the site offers,
and an ordinary API token for the one-time code the browser brought to the client's loopback port. The
browser's part of the flow is on the portal (``web/routes/sso.py``)."""

from __future__ import annotations

from fastapi import APIRouter, status

from ...services import sso_flow
from ..deps import Ctx, Uow
from ..schemas.identity import IssuedTokenOut, issued
from ..schemas.sso import ProviderOut, SsoTokenIn

router = APIRouter(tags=["auth"])


@router.get(
    "/auth/sso/providers",
    response_model=list[ProviderOut],
    summary="The OpenID Connect providers people of this site sign in with",
)
def providers(ctx: Ctx) -> list[ProviderOut]:
    return [ProviderOut(name=p.name, title=p.display_title) for p in ctx.settings.oidc_providers]


@router.post(
    "/auth/sso/token",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedTokenOut,
    summary="A new API token for a single sign-on's one-time code and the verifier of its challenge",
)
def token_for_code(body: SsoTokenIn, uow: Uow, ctx: Ctx) -> IssuedTokenOut:
    """One answer (401) for every unknown, used, expired or foreign code; a code is redeemed once."""
    ttl = min(body.ttl_days, ctx.settings.token_ttl_days)
    return issued(sso_flow.redeem(uow, ctx.clock, code=body.code, verifier=body.verifier, ttl_days=ttl))
