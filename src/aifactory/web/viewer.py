"""Who is looking: the signed-in user (from the session cookie) or an anonymous visitor, their language and
their CSRF token. Routes depend on ``CurrentViewer`` (anyone), ``SignedIn`` (redirects to sign-in) or
``CsrfChecked`` (every POST)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Annotated

from fastapi import Depends, Request

from ..api.deps import AppContext, get_ctx
from ..domain.errors import Unauthorized
from ..domain.identity import User, WebSession
from ..services import inbox, sessions
from ..services.context import Actor
from ..services.ports import StoreUnavailable
from . import security as sec
from .cache import SessionCache, per_app
from .i18n import Translator, negotiate


class LoginRequired(Exception):
    """Turned into a redirect to the sign-in page (``HX-Redirect`` for htmx requests)."""

    def __init__(self, expired: bool = False):
        super().__init__("sign-in required")
        self.expired = expired


class CsrfFailed(Exception):
    """A POST without the right CSRF token: refused before anything is read or written."""


def session_policy(ctx: AppContext) -> sessions.SessionPolicy:
    s = ctx.settings
    return sessions.SessionPolicy(
        idle=timedelta(minutes=s.session_idle_minutes), lifetime=timedelta(hours=s.session_hours)
    )


@dataclass
class Viewer:
    ctx: AppContext
    t: Translator
    seed: str
    user: User | None = None
    expired: bool = False
    new_seed: bool = False
    session: WebSession | None = None  # the signed-in user's session

    @property
    def actor(self) -> Actor:
        if self.user is None:
            raise LoginRequired(self.expired)
        return Actor(self.user)

    @property
    def lang(self) -> str:
        return self.t.lang

    @property
    def csrf(self) -> str:
        return sec.csrf_token(self.ctx.settings.secret_key.get_secret_value(), self.seed)

    @cached_property
    def unread(self) -> int | None:
        """The signed-in user's unread notifications for the header: one indexed COUNT, once per request (the
        viewer is the request's); None for visitors and while the database cannot answer."""
        if self.user is None:
            return None
        try:
            with self.ctx.uow_factory(write=False) as uow:
                return inbox.unread_count(uow, Actor(self.user))
        except StoreUnavailable:
            return None


def session_cache(request: Request) -> SessionCache:
    return per_app(request, "sessions", SessionCache)


def _signed_in(ctx: AppContext, secret: str, cache: SessionCache) -> tuple[User, WebSession] | bool:
    """The user and session of a session cookie, or whether it names a session that has ended."""
    key = sessions.hash_secret(secret)
    policy = session_policy(ctx)
    if (hit := cache.get(key)) is not None and hit[1].live(ctx.clock.now(), policy.idle):
        return hit[0], hit[1]
    try:
        with ctx.uow_factory(write=False) as uow:
            user, session = sessions.resolve(uow, ctx.clock, secret, policy)
            stale = sessions.needs_touch(session, ctx.clock, policy)
    except sessions.SessionExpired:
        return True
    except Unauthorized:
        return False
    if stale and session.id is not None:  # a resolved session is a stored one: it has an id
        with ctx.uow_factory(write=True) as uow:
            sessions.touch(uow, ctx.clock, session.id)
    cache.put(key, (user, session))
    return user, session


def get_viewer(request: Request, ctx: Annotated[AppContext, Depends(get_ctx)]) -> Viewer:
    cached: Viewer | None = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    secret = request.cookies.get(sec.SESSION_COOKIE)
    found = _signed_in(ctx, secret, session_cache(request)) if secret else False
    if isinstance(found, tuple) and secret:
        viewer = Viewer(ctx, _translator(request), seed=secret, user=found[0], session=found[1])
    else:
        viewer = anonymous_viewer(request, ctx, expired=found is True)
    request.state.viewer = viewer
    return viewer


def _translator(request: Request) -> Translator:
    return Translator(negotiate(request.cookies.get(sec.LANG_COOKIE), request.headers.get("accept-language")))


def anonymous_viewer(request: Request, ctx: AppContext, *, expired: bool = False) -> Viewer:
    """A visitor who is not signed in (language and CSRF seed from the cookies; nothing read from the
    database, so it also serves the page shown while the database is away)."""
    seed = request.cookies.get(sec.SEED_COOKIE)
    kept = seed if seed and len(seed) <= 64 else None
    return Viewer(ctx, _translator(request), seed=kept or sec.new_seed(), expired=expired, new_seed=kept is None)


CurrentViewer = Annotated[Viewer, Depends(get_viewer)]


def require_user(viewer: CurrentViewer) -> Viewer:
    if viewer.user is None:
        raise LoginRequired(viewer.expired)
    return viewer


SignedIn = Annotated[Viewer, Depends(require_user)]


async def _verify_csrf(request: Request, viewer: Viewer) -> Viewer:
    sent = request.headers.get(sec.CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form(max_fields=500, max_files=0)
        value = form.get(sec.CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    verify_token(viewer, sent)
    return viewer


def verify_token(viewer: Viewer, sent: object) -> None:
    """CsrfFailed unless ``sent`` is this browser's CSRF token (for a form the dependencies cannot read, e.g.
    one carrying a file)."""
    secret = viewer.ctx.settings.secret_key.get_secret_value()
    if viewer.new_seed or not isinstance(sent, str) or not sec.csrf_valid(secret, viewer.seed, sent):
        raise CsrfFailed()


async def check_csrf(request: Request, viewer: CurrentViewer) -> Viewer:
    return await _verify_csrf(request, viewer)


CsrfChecked = Annotated[Viewer, Depends(check_csrf)]


async def signed_in_checked(request: Request, viewer: CurrentViewer) -> Viewer:
    """An expired session asks to sign in again (not "form expired"); then the token is checked."""
    return await _verify_csrf(request, require_user(viewer))


SignedInChecked = Annotated[Viewer, Depends(signed_in_checked)]
