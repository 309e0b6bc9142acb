"""E-mail verification (the link from the sign-up mail, and asking for a new one) and password reset (asking for
a link, and choosing a new password from it): the portal's side of ``services.accounts``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...api.deps import client_address
from ...domain.errors import Conflict, DomainError, InvalidInput
from ...services import accounts
from ...services.throttle import TooManyAttempts
from .. import security as sec
from ..accounts_text import form_errors, wait_message
from ..forms import field_errors, read_form
from ..render import redirect, render
from ..viewer import CsrfChecked, CurrentViewer, SignedInChecked, Viewer, session_cache

router = APIRouter()


def _locked(request: Request, viewer: Viewer, template: str, exc: TooManyAttempts, **context: object) -> Response:
    response = render(request, viewer, template, status=429, note=wait_message(viewer.t, exc.retry_after), **context)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _bad_link(request: Request, viewer: Viewer) -> Response:
    message = viewer.t.gettext("This link is invalid, already used or expired. Ask for a new one.")
    return render(request, viewer, "accounts/link_invalid.html", status=400, message=message, note=None)


@router.get("/verify-email", response_class=HTMLResponse)
def verify_email(request: Request, viewer: CurrentViewer, token: str = "") -> Response:
    try:
        user = accounts.verify_email(
            viewer.ctx.uow_factory, viewer.ctx.clock, viewer.ctx.throttle, secret=token, address=client_address(request)
        )
    except TooManyAttempts as exc:
        return _locked(request, viewer, "accounts/link_invalid.html", exc, message="")
    except InvalidInput:
        return _bad_link(request, viewer)
    session_cache(request).evict(user_id=user.stored_id)  # the banner goes at once
    return redirect(viewer, "/", viewer.t.gettext("Thank you: your e-mail address is verified."))


@router.post("/account/verify/resend")
async def resend_verification(request: Request, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    target = sec.safe_next(form.get("next"))
    ctx = viewer.ctx
    try:
        accounts.resend_verification(
            ctx.uow_factory, ctx.clock, ctx.throttle, viewer.actor, address=client_address(request)
        )
    except TooManyAttempts as exc:
        return redirect(viewer, target, wait_message(viewer.t, exc.retry_after))
    except Conflict:
        return redirect(viewer, target, viewer.t.gettext("Your e-mail address is verified already."))
    message = viewer.t.gettext("A new link is on its way to %(email)s.", email=viewer.actor.user.email)
    return redirect(viewer, target, message)


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_page(request: Request, viewer: CurrentViewer) -> Response:
    return render(request, viewer, "accounts/forgot.html", errors={}, email="", note=None)


@router.post("/forgot-password", response_class=HTMLResponse)
async def forgot(request: Request, viewer: CsrfChecked) -> Response:
    form = await read_form(request)
    email = form.get("email", "").strip()
    ctx = viewer.ctx
    try:
        accounts.request_reset(ctx.uow_factory, ctx.clock, ctx.throttle, email=email, address=client_address(request))
    except TooManyAttempts as exc:
        return _locked(request, viewer, "accounts/forgot.html", exc, errors={}, email=email)
    except InvalidInput:
        errors = {"email": viewer.t.gettext("Please enter a valid e-mail address.")}
        return render(request, viewer, "accounts/forgot.html", status=422, errors=errors, email=email, note=None)
    message = viewer.t.gettext(
        "If an account has this address, a link to reset its password is on its way. It works for one hour."
    )
    return redirect(viewer, "/login", message)


@router.get("/reset-password", response_class=HTMLResponse)
def reset_page(request: Request, viewer: CurrentViewer, token: str = "") -> Response:
    ctx = viewer.ctx
    try:
        user = accounts.reset_link_user(
            ctx.uow_factory, ctx.clock, ctx.throttle, secret=token, address=client_address(request)
        )
    except TooManyAttempts as exc:
        return _locked(request, viewer, "accounts/link_invalid.html", exc, message="")
    except InvalidInput:
        return _bad_link(request, viewer)
    return render(request, viewer, "accounts/reset.html", token=token, email=user.email, errors={})


@router.post("/reset-password", response_class=HTMLResponse)
async def reset(request: Request, viewer: CsrfChecked) -> Response:
    form = await read_form(request)
    token, ctx = form.get("token", ""), viewer.ctx
    try:
        if form.get("new", "") != form.get("new2", ""):
            raise InvalidInput.on("new2", viewer.t.gettext("the two passwords differ"))
        user = accounts.reset_password(
            ctx.uow_factory,
            ctx.clock,
            ctx.throttle,
            secret=token,
            new=form.get("new", ""),
            address=client_address(request),
        )
    except TooManyAttempts as exc:
        return _locked(request, viewer, "accounts/link_invalid.html", exc, message="")
    except DomainError as exc:
        if any(e.field == "token" for e in exc.errors):
            return _bad_link(request, viewer)
        errors = form_errors(viewer.t, exc, "new", field_errors(exc, {"new", "new2"}, {"password": "new"}))
        return render(request, viewer, "accounts/reset.html", status=exc.status, token=token, email="", errors=errors)
    session_cache(request).evict(user_id=user.stored_id)
    response = redirect(viewer, "/login", viewer.t.gettext("Your password is set: please sign in with it."))
    response.delete_cookie(sec.SESSION_COOKIE, path="/")
    return response
