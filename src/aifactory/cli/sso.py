"""``aifactory login --sso``: an API token through the site's OpenID Connect provider, in the browser.

The client listens on a free port of 127.0.0.1 (a loopback redirect, RFC 8252) and opens the browser at the
factory's ``/sso/<provider>/cli`` page with that port, its own state and the S256 challenge of a verifier
only it knows. The person confirms there and signs in at the provider; the factory exchanges the provider's
code itself and sends the browser back to the port with a one-time code, which the client redeems (with the
verifier) for an ordinary, expiring API token."""

from __future__ import annotations

import os
import secrets
import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from ..client import AifactoryClient
from ..client.base import API_PREFIX
from ..domain.sso import s256
from .output import note
from .state import CliError

ENV_TIMEOUT = "AIFACTORY_SSO_TIMEOUT"
DONE_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>aifactory</title></head><body>"
    b"<h1>Signed in</h1><p>The command line client has your sign-in: return to your terminal. "
    b"You can close this tab.</p></body></html>"
)
# the browser the sign-in page opens in; the tests put a "browser" of their own here
open_browser: Callable[[str], object] = webbrowser.open


@dataclass
class _Answer:
    code: str | None = None
    state: str | None = None
    arrived: threading.Event = field(default_factory=threading.Event)


class _Loopback(HTTPServer):
    answer: _Answer


class _Handler(BaseHTTPRequestHandler):
    server: _Loopback

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        parts = urlsplit(self.path)
        if parts.path != "/callback":
            self.send_error(404)
            return
        query = parse_qs(parts.query)
        answer = self.server.answer
        if not answer.arrived.is_set():  # the first answer counts
            answer.code = query.get("code", [""])[0] or None
            answer.state = query.get("state", [""])[0] or None
            answer.arrived.set()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(DONE_PAGE)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the http.server API
        return


def _choose(providers: list[dict[str, str]], wanted: str | None) -> dict[str, str]:
    names = ", ".join(p["name"] for p in providers)
    if not providers:
        raise CliError("this factory offers no single sign-on: log in with --email or --token")
    if wanted is None:
        if len(providers) > 1:
            raise CliError(f"this factory offers several sign-in services: choose one with --provider ({names})")
        return providers[0]
    for p in providers:
        if p["name"] == wanted:
            return p
    raise CliError(f"no sign-in service {wanted!r} here (choose one of: {names})")


def _timeout() -> float:
    raw = os.environ.get(ENV_TIMEOUT, "300")
    try:
        return max(float(raw), 1.0)
    except ValueError:
        raise CliError(f"{ENV_TIMEOUT} must be a number of seconds, not {raw!r}") from None


def token_by_sso(client: AifactoryClient, provider: str | None) -> str:
    """Sign in through the browser; returns the new API token's secret."""
    chosen = _choose(client.sso_providers(), provider)
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
    server = _Loopback(("127.0.0.1", 0), _Handler)
    server.answer = _Answer()
    thread = threading.Thread(target=server.serve_forever, name="aifactory-sso-loopback", daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        query = urlencode({"port": port, "challenge": s256(verifier), "state": state})
        url = f"{client.base_url.removesuffix(API_PREFIX)}/sso/{chosen['name']}/cli?{query}"
        note(f"Sign in with {chosen['title']} in your browser; if it does not open, visit:\n  {url}")
        open_browser(url)
        if not server.answer.arrived.wait(_timeout()):
            raise CliError(f"no sign-in arrived within {_timeout():g} s (set {ENV_TIMEOUT} to wait longer)")
    finally:
        server.shutdown()
        server.server_close()
    answer = server.answer
    if not answer.code or answer.state is None or not secrets.compare_digest(answer.state, state):
        raise CliError("the browser brought back no sign-in for this client: run `aifactory login --sso` again")
    return str(client.token_for_sso_code(answer.code, verifier)["token"])
