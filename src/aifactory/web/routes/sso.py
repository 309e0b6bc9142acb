"""Single sign-on on the portal: "Sign in with <provider>" (``POST /sso/{name}/start``), the provider's answer
(``/sso/{name}/callback``), a new person's first sign-in form (``/sso/welcome``) and the command line
client's sign-in (``/sso/{name}/cli``: confirmed on a page, then the same flow, ending at the client's
loopback port with a one-time code). The rules are ``services.sso`` and ``services.sso_flow``; the provider's
side is ``aifactory.oidc``. Talking to the provider happens outside every transaction."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.enums import ApplicationField, OrgKind
from ...domain.errors import DomainError, InvalidInput, NotFound
from ...domain.sso import Purpose, StaleSignIn, identity_from_claims
from ...oidc.client import OidcClient, OidcClients, OidcError
from ...services import sso_flow
from .. import security as sec
from ..cache import per_app
from ..forms import as_int, field_errors, read_form, read_multi
from ..render import finish, redirect, render
from ..viewer import CsrfChecked, CsrfFailed, CurrentViewer, Viewer
from .auth import _start_session
from .sso_pages import STATE_COOKIE, failed_page

router = APIRouter()
WELCOME_FIELDS = {"organization", "kind", "country", "sectors", "name"}


def clients(request: Request, viewer: Viewer) -> OidcClients:
    """The site's providers (one relying party each, its discovery document and keys cached per app)."""
    return per_app(request, "oidc_clients", lambda: OidcClients(viewer.ctx.settings.oidc_providers))


def _client(request: Request, viewer: Viewer, name: str) -> OidcClient:
    client = clients(request, viewer).get(name)
    if client is None:
        raise NotFound(f"no sign-in service named {name!r}")
    return client


def _redirect_uri(request: Request, viewer: Viewer, name: str) -> str:
    base = viewer.ctx.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/sso/{name}/callback"


def _to_provider(
    request: Request, viewer: Viewer, client: OidcClient, *, next_path: str = "/", cli: sso_flow.CliRequest | None
) -> Response:
    """Store the sign-in, send the browser to the provider; the state also goes into a cookie of this browser."""
    ctx = viewer.ctx
    try:
        client.metadata()  # the provider answers before anything is stored
        with ctx.uow_factory(write=True) as uow:
            started = sso_flow.start(uow, ctx.clock, _key(viewer), provider=client.name, next_path=next_path, cli=cli)
        url = client.authorization_url(
            redirect_uri=_redirect_uri(request, viewer, client.name),
            state=started.state,
            verifier=started.verifier,
            nonce=started.nonce,
        )
    except (OidcError, DomainError) as exc:
        return failed_page(request, viewer, exc, client.settings.display_title)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=int(sso_flow.PENDING_TTL.total_seconds()),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to the callback
        secure=ctx.settings.secure_cookies,
        path="/sso/",
    )
    finish(response, viewer)
    return response


def _key(viewer: Viewer) -> str:
    return viewer.ctx.settings.secret_key.get_secret_value()


@router.get("/sso/{name}/start")
def start(request: Request, viewer: CurrentViewer, name: str, next: str = "/") -> Response:
    """ "Sign in with <provider>": a link, not a form (the portal's CSP allows forms to post only to itself,
    redirects included). Starting a sign-in changes nothing a visitor could abuse: it only ends in the
    browser that started it."""
    client = _client(request, viewer, name)
    return _to_provider(request, viewer, client, next_path=sec.safe_next(next), cli=None)


@router.get("/sso/{name}/callback", response_class=HTMLResponse)
def callback(
    request: Request,
    viewer: CurrentViewer,
    name: str,
    code: str | None = None,
    state: str | None = None,
    iss: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    """The provider's answer: the sign-in taken (single use), the code exchanged and the ID token verified,
    the person through the linking rules."""
    client = _client(request, viewer, name)
    ctx = viewer.ctx
    try:
        with ctx.uow_factory(write=True) as uow:
            taken = sso_flow.take(uow, ctx.clock, provider=name, state=state, cookie=request.cookies.get(STATE_COOKIE))
        if error is not None:
            raise OidcError(f"{error}: {(error_description or '')[:200]}".rstrip(": "))
        if not code or state is None:
            raise StaleSignIn("the sign-in service's answer carries no code")
        client.check_issuer(iss)
        secrets = sso_flow.secrets_of(_key(viewer), state)
        redirect_uri = _redirect_uri(request, viewer, name)
        claims = client.exchange(
            code=code[:2048], redirect_uri=redirect_uri, verifier=secrets.verifier, nonce=secrets.nonce
        )
        policy = client.settings.policy()
        with ctx.uow_factory(write=True) as uow:
            outcome = sso_flow.finish(uow, ctx.clock, policy, taken, identity_from_claims(policy, claims))
    except (OidcError, DomainError) as exc:
        return failed_page(request, viewer, exc, client.settings.display_title, cancelled=error is not None)
    return _onwards(viewer, outcome)


def _onwards(viewer: Viewer, outcome: sso_flow.Outcome) -> Response:
    """Signed in: the portal session, or the CLI's code to its loopback port. A new person: the form."""
    request, user = outcome.request, outcome.user
    if user is None:
        return redirect(viewer, "/sso/welcome")
    if request.purpose is Purpose.CLI:
        url = f"http://127.0.0.1:{request.cli_port}/callback?code={outcome.code}&state={request.cli_state}"
        response: Response = RedirectResponse(url, status_code=303)
        finish(response, viewer)
    else:
        welcome = viewer.t.gettext("Welcome, %(name)s.", name=user.name)
        response = _start_session(viewer, user, sec.safe_next(request.next_path), welcome)
    response.delete_cookie(STATE_COOKIE, path="/sso/")
    return response


def _welcome_options() -> dict[str, Any]:
    return {"kinds": [k.value for k in OrgKind], "sectors": [f.value for f in ApplicationField]}


@router.get("/sso/welcome", response_class=HTMLResponse)
def welcome_page(request: Request, viewer: CurrentViewer) -> Response:
    """A new person names their organization (no provider rule placed them in one)."""
    ctx = viewer.ctx
    try:
        with ctx.uow_factory(write=False) as uow:
            pending = sso_flow.pending(uow, ctx.clock, request.cookies.get(STATE_COOKIE))
    except DomainError as exc:
        return failed_page(request, viewer, exc, "")
    who = pending.identity
    assert who is not None
    form = {"name": who.name}
    return render(request, viewer, "sso/welcome.html", who=who, form=form, chosen=[], errors={}, **_welcome_options())


@router.post("/sso/welcome", response_class=HTMLResponse)
async def welcome(request: Request, viewer: CsrfChecked) -> Response:
    form = await read_form(request)
    chosen = await read_multi(request, "sectors")
    ctx, cookie = viewer.ctx, request.cookies.get(STATE_COOKIE)
    try:
        if form.get("kind") not in {k.value for k in OrgKind}:
            raise InvalidInput.on("kind", viewer.t.gettext("choose the kind of your organization"))
        with ctx.uow_factory(write=True) as uow:
            outcome = sso_flow.complete_pending(
                uow,
                ctx.clock,
                cookie,
                organization_name=form.get("organization", ""),
                kind=OrgKind(form["kind"]),
                country=form.get("country", ""),
                sectors=chosen,
                name=form.get("name", ""),
            )
    except StaleSignIn as exc:
        return failed_page(request, viewer, exc, "")
    except DomainError as exc:
        with ctx.uow_factory(write=False) as uow:
            who = sso_flow.pending(uow, ctx.clock, cookie).identity
        aliases = {"organization.name": "organization", "organization.country": "country"}
        errors = field_errors(exc, WELCOME_FIELDS, aliases)
        status = exc.status
        return render(
            request,
            viewer,
            "sso/welcome.html",
            status=status,
            who=who,
            form=form,
            chosen=chosen,
            errors=errors,
            **_welcome_options(),
        )
    return _onwards(viewer, outcome)


@router.get("/sso/{name}/cli", response_class=HTMLResponse)
def cli_page(
    request: Request, viewer: CurrentViewer, name: str, port: str = "", challenge: str = "", state: str = ""
) -> Response:
    """The command line client opened this page: the person confirms before anything else happens (a link
    from someone else would hand their token to a program that is not theirs)."""
    client = _client(request, viewer, name)
    try:
        cli = sso_flow.CliRequest(as_int(port), challenge, state).check()
    except DomainError as exc:
        return failed_page(request, viewer, exc, client.settings.display_title)
    onwards = urlencode({"port": cli.port, "challenge": cli.challenge, "state": cli.state, sec.CSRF_FIELD: viewer.csrf})
    return render(
        request, viewer, "sso/cli.html", cli=cli, provider=client.settings.display_title, name=name, onwards=onwards
    )


@router.get("/sso/{name}/cli/continue")
def cli_start(
    request: Request,
    viewer: CurrentViewer,
    name: str,
    port: str = "",
    challenge: str = "",
    state: str = "",
    csrf_token: str = "",
) -> Response:
    """The confirmation page's link (a link: the CSP keeps forms on this site), carrying the page's CSRF
    token, so that only a person who saw the page continues."""
    client = _client(request, viewer, name)
    key = viewer.ctx.settings.secret_key.get_secret_value()
    if viewer.new_seed or not sec.csrf_valid(key, viewer.seed, csrf_token):
        raise CsrfFailed()
    try:
        cli = sso_flow.CliRequest(as_int(port), challenge, state).check()
    except DomainError as exc:
        return failed_page(request, viewer, exc, client.settings.display_title)
    return _to_provider(request, viewer, client, cli=cli)
