"""Sign-in (password or API token), sign-out, sign-up of a user with their organization, the account page
and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...api.deps import client_address
from ...domain.enums import ApplicationField, OrgKind
from ...domain.errors import DomainError, InvalidInput, Unauthorized
from ...domain.identity import User
from ...services import accounts, identity, sessions
from ...services.throttle import TooManyAttempts
from .. import security as sec
from ..accounts_text import form_errors, wait_message
from ..forms import field_errors, read_form, read_multi
from ..i18n import LANGUAGES
from ..render import redirect, render
from ..viewer import CsrfChecked, CurrentViewer, SignedIn, SignedInChecked, Viewer, session_cache, session_policy

router = APIRouter()
SIGNUP_FIELDS = {"organization", "kind", "country", "sectors", "name", "email", "password", "password2"}


def _start_session(viewer: Viewer, sign_in: sessions.SignIn | User, target: str, flash: str) -> Response:
    ctx = viewer.ctx
    with ctx.uow_factory(write=True) as uow:
        secret = sessions.open_session(uow, ctx.clock, sign_in, session_policy(ctx))
    response = redirect(viewer, target, flash)
    response.set_cookie(
        sec.SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        path="/",
        secure=ctx.settings.secure_cookies,
        max_age=ctx.settings.session_hours * 3600,
    )
    response.delete_cookie(sec.SEED_COOKIE, path="/")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, viewer: CurrentViewer, next: str = "/", expired: int = 0) -> Response:
    if viewer.user is not None:
        return redirect(viewer, sec.safe_next(next))
    note = viewer.t.gettext("Your session has expired: please sign in again.") if expired or viewer.expired else None
    return render(request, viewer, "login.html", next=sec.safe_next(next), note=note, errors={}, email="")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, viewer: CsrfChecked) -> Response:
    form = await read_form(request)
    email, secret = form.get("email", "").strip(), form.get("password", "")
    target = sec.safe_next(form.get("next"))
    ctx = viewer.ctx
    try:
        sign_in = accounts.sign_in(
            ctx.uow_factory, ctx.clock, ctx.throttle, email=email, secret=secret, address=client_address(request)
        )
    except TooManyAttempts as exc:  # the same for every address, whether it has an account or not
        response = render(
            request,
            viewer,
            "login.html",
            status=429,
            next=target,
            note=wait_message(viewer.t, exc.retry_after),
            errors={},
            email=email,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Unauthorized:
        message = viewer.t.gettext("Wrong e-mail address or password (or an invalid API token).")
        return render(
            request, viewer, "login.html", status=401, next=target, note=None, errors={"password": message}, email=email
        )
    welcome = viewer.t.gettext("Welcome, %(name)s.", name=sign_in.user.name)
    return _start_session(viewer, sign_in, target, welcome)


@router.post("/logout")
async def logout(request: Request, viewer: SignedInChecked) -> Response:
    secret = request.cookies.get(sec.SESSION_COOKIE, "")
    with viewer.ctx.uow_factory(write=True) as uow:
        sessions.close_session(uow, viewer.ctx.clock, secret)
    session_cache(request).evict(sessions.hash_secret(secret))
    response = redirect(viewer, "/", viewer.t.gettext("You are signed out."))
    response.delete_cookie(sec.SESSION_COOKIE, path="/")
    return response


def _signup_options(viewer: Viewer) -> dict:  # type: ignore[type-arg]
    return {"kinds": [k.value for k in OrgKind], "sectors": [f.value for f in ApplicationField]}


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, viewer: CurrentViewer) -> Response:
    if viewer.user is not None:
        return redirect(viewer, "/")
    return render(request, viewer, "signup.html", form={}, chosen=[], errors={}, **_signup_options(viewer))


@router.post("/signup", response_class=HTMLResponse)
async def signup(request: Request, viewer: CsrfChecked) -> Response:
    form = await read_form(request)
    chosen = await read_multi(request, "sectors")
    ctx = viewer.ctx
    try:
        if form.get("password", "") != form.get("password2", ""):
            raise InvalidInput.on("password2", viewer.t.gettext("the two passwords differ"))
        if form.get("kind") not in {k.value for k in OrgKind}:
            raise InvalidInput.on("kind", viewer.t.gettext("choose the kind of your organization"))
        password_hash = sessions.hash_password(form.get("password", ""), form.get("email", ""), form.get("name", ""))
        with ctx.uow_factory(write=True) as uow:
            _, user, _ = identity.register(
                uow,
                ctx.clock,
                organization_name=form.get("organization", ""),
                kind=OrgKind(form["kind"]),
                country=form.get("country", ""),
                sectors=chosen,
                email=form.get("email", ""),
                name=form.get("name", ""),
                password_hash=password_hash,
                language=viewer.lang,
            )
    except DomainError as exc:
        aliases = {"organization.name": "organization", "organization.country": "country"}
        return render(
            request,
            viewer,
            "signup.html",
            status=422 if exc.status == 422 else exc.status,
            form={k: v for k, v in form.items() if not k.startswith("password")},
            chosen=chosen,
            errors=form_errors(viewer.t, exc, "password", field_errors(exc, SIGNUP_FIELDS, aliases)),
            **_signup_options(viewer),
        )
    welcome = viewer.t.gettext(
        "Your organization is registered. We sent a link to %(email)s: open it to verify your address, then you "
        "can submit proposals.",
        email=user.email,
    )
    return _start_session(viewer, user, "/proposals/new", welcome)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, viewer: SignedIn) -> Response:
    return render(request, viewer, "account.html", errors={})


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(request: Request, viewer: SignedInChecked) -> Response:
    form = await read_form(request)
    try:
        if form.get("new", "") != form.get("new2", ""):
            raise InvalidInput.on("new2", viewer.t.gettext("the two passwords differ"))
        with viewer.ctx.uow_factory(write=True) as uow:
            sessions.set_password(
                uow,
                viewer.ctx.clock,
                viewer.actor,
                current=form.get("current"),
                new=form.get("new", ""),
                via_token_id=viewer.session.api_token_id if viewer.session is not None else None,
            )
        session_cache(request).evict(user_id=viewer.actor.id)
    except DomainError as exc:
        return render(
            request,
            viewer,
            "account.html",
            status=exc.status,
            errors=form_errors(
                viewer.t, exc, "new", field_errors(exc, {"current", "new", "new2"}, {"password": "new"})
            ),
        )
    response = redirect(viewer, "/login", viewer.t.gettext("Password changed: please sign in with it."))
    response.delete_cookie(sec.SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
async def choose_language(request: Request, viewer: CsrfChecked) -> Response:
    form = await read_form(request)
    lang = form.get("lang", "")
    response = redirect(viewer, sec.safe_next(form.get("next")))
    if lang in LANGUAGES:
        response.set_cookie(
            sec.LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            samesite="lax",
            path="/",
            secure=viewer.ctx.settings.secure_cookies,
        )
    return response
