"""What a person reads when a single sign-on does not go through: one readable, translated page per cause
(never a 500), with the technical detail below it and the way back to the sign-in page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from ...domain.errors import DomainError, NotFound
from ...domain.sso import AccountInactive, MissingEmail, StaleSignIn, UnverifiedEmail
from ...oidc.client import OidcError
from ..render import render
from ..viewer import Viewer

STATE_COOKIE = "aif_sso"  # the sign-in's state, in the browser that started it (path /sso/)


def _explain(viewer: Viewer, exc: Exception, provider: str, cancelled: bool) -> tuple[int, str, str]:
    """(status, title, message) for a failed sign-in."""
    t = viewer.t
    if isinstance(exc, OidcError) and exc.unavailable:
        message = t.gettext(
            "%(provider)s cannot be reached right now, so you were not signed in. Please try again in a few minutes.",
            provider=provider,
        )
        return 503, t.gettext("Sign-in service unavailable"), message
    if isinstance(exc, OidcError) and cancelled:
        return 400, t.gettext("Sign-in cancelled"), t.gettext("%(provider)s did not sign you in.", provider=provider)
    if isinstance(exc, OidcError):
        message = t.gettext(
            "The answer of %(provider)s could not be accepted, so you were not signed in.", provider=provider
        )
        return 400, t.gettext("Sign-in refused"), message
    if isinstance(exc, UnverifiedEmail):
        message = t.gettext(
            "Your identity provider does not confirm that this e-mail address is yours, so the factory cannot use "
            "it to sign you in. Confirm the address with your provider (or ask its help desk), or sign in with "
            "your password."
        )
        return 403, t.gettext("E-mail address not confirmed"), message
    if isinstance(exc, MissingEmail):
        message = t.gettext(
            "Your identity provider sent no e-mail address. Allow it to share your e-mail address with the "
            "factory, then try again."
        )
        return 403, t.gettext("E-mail address missing"), message
    if isinstance(exc, AccountInactive):
        return 403, t.gettext("Sign-in refused"), t.gettext("This account is deactivated: ask the factory's operators.")
    if isinstance(exc, StaleSignIn):
        message = t.gettext(
            "This sign-in was not started in this browser, was used already or has expired. Please start again."
        )
        return 400, t.gettext("Sign-in expired"), message
    if isinstance(exc, NotFound):
        return 404, t.gettext("Not found"), t.gettext("There is no such sign-in service here.")
    status = exc.status if isinstance(exc, DomainError) else 400
    return status, t.gettext("Sign-in refused"), t.gettext("You were not signed in.")


def failed_page(
    request: Request, viewer: Viewer, exc: Exception, provider: str, *, cancelled: bool = False
) -> Response:
    status, title, message = _explain(viewer, exc, provider or viewer.t.gettext("The sign-in service"), cancelled)
    detail = exc.message if isinstance(exc, OidcError) else str(exc)
    response = render(request, viewer, "sso/failed.html", status=status, title=title, message=message, detail=detail)
    response.delete_cookie(STATE_COOKIE, path="/sso/")
    return response
