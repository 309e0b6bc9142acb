"""E-mail verification and password reset: the links e-mailed at sign-up and on request (``services.accounts``).
Throttled like the sign-in: 429 with Retry-After."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from ...services import accounts
from ...web.viewer import session_cache
from ..deps import Ctx, CurrentActor, client_address
from ..schemas.accounts import AcceptedOut, EmailIn, LinkIn, PasswordResetIn
from ..schemas.identity import UserOut

router = APIRouter(tags=["auth"])
RESET_ASKED = "if an account has this address, a link to reset its password is on its way (valid for one hour)"


@router.post(
    "/auth/verify-email",
    response_model=UserOut,
    summary="Verify the e-mail address with the token of the link e-mailed at sign-up",
)
def verify_email(body: LinkIn, request: Request, ctx: Ctx) -> UserOut:
    user = accounts.verify_email(
        ctx.uow_factory, ctx.clock, ctx.throttle, secret=body.token, address=client_address(request)
    )
    return UserOut.model_validate(user)


@router.post(
    "/auth/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcceptedOut,
    summary="E-mail a new verification link (earlier links stop working)",
)
def resend_verification(request: Request, actor: CurrentActor, ctx: Ctx) -> AcceptedOut:
    accounts.resend_verification(ctx.uow_factory, ctx.clock, ctx.throttle, actor, address=client_address(request))
    return AcceptedOut(detail=f"a new verification link is on its way to {actor.user.email}")


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcceptedOut,
    summary="E-mail a password-reset link (the same answer whether or not the address has an account)",
)
def request_reset(body: EmailIn, request: Request, ctx: Ctx) -> AcceptedOut:
    accounts.request_reset(ctx.uow_factory, ctx.clock, ctx.throttle, email=body.email, address=client_address(request))
    return AcceptedOut(detail=RESET_ASKED)


@router.post(
    "/auth/password-reset/confirm",
    response_model=UserOut,
    summary="Set a new password with the token of a reset link; every portal session of the person ends",
)
def reset_password(body: PasswordResetIn, request: Request, ctx: Ctx) -> UserOut:
    user = accounts.reset_password(
        ctx.uow_factory,
        ctx.clock,
        ctx.throttle,
        secret=body.token,
        new=body.password,
        address=client_address(request),
    )
    session_cache(request).evict(user_id=user.stored_id)
    return UserOut.model_validate(user)
