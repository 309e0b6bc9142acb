"""Sessions: ``login``, ``logout``, ``whoami`` and self-service ``register``."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer

from ..client import AifactoryClient
from ..domain.enums import ApplicationField, OrgKind
from . import credentials
from .orgs import ORG_COLS
from .output import Col, Row, done, note, show_record, under
from .sso import token_by_sso
from .state import api, connect
from .users import TOKEN_FIELDS, USER_FIELDS, roles

ORG_FIELDS = [Col("Organization", "id"), *ORG_COLS[1:]]
ENV_PASSWORD = "AIFACTORY_PASSWORD"
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar=credentials.ENV_URL,
        show_envvar=True,
        help="the server, e.g. http://127.0.0.1:8000 (…/api/v1 is added)",
    ),
]


def _who(user: Row) -> str:
    return f"{user['name']} <{user['email']}> ({roles(user)})"


def _remember(client: AifactoryClient, token: str) -> str:
    path = credentials.save(client.base_url, token)
    return f"credentials saved to {path}"


def _token_for_password(url: str | None, email: str) -> str:
    """A new token for an e-mail and its password (asked for, or $AIFACTORY_PASSWORD)."""
    password = os.environ.get(ENV_PASSWORD) or typer.prompt("Password", hide_input=True)
    with connect(url, need_token=False) as client:
        return str(client.token_for_password(email, password, name=f"cli {socket.gethostname()}"[:100])["token"])


def login(
    token: Annotated[
        str | None, typer.Option(help="an API token (aif_…); asked for when neither it nor --email is given")
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            help=f"sign in with your e-mail and password instead (the password is asked for, or ${ENV_PASSWORD})"
        ),
    ] = None,
    url: UrlOption = None,
    sso: Annotated[
        bool, typer.Option("--sso", help="sign in through your institution's provider in the browser (single sign-on)")
    ] = False,
    provider: Annotated[
        str | None, typer.Option(help="with --sso: the sign-in service, when the factory offers several")
    ] = None,
) -> None:
    """Check a token against the server (or get one with your e-mail and password, or through your
    institution's sign-in service with --sso) and remember both for the next commands.

    --url defaults to the stored one, so a new token for the same server needs only --token.
    """
    if sso:
        with connect(url, need_token=False) as client:
            token = token_by_sso(client, provider)
    elif token is None:
        token = _token_for_password(url, email) if email else typer.prompt("Token", hide_input=True)
    with connect(url, token) as client:
        user = client.me()
        saved = _remember(client, token)
        done(user, f"Logged in to {client.base_url} as {_who(user)}; {saved}")


def logout() -> None:
    """Forget the stored credentials (the token stays valid until revoked: `aifactory tokens revoke`)."""
    path = credentials.credentials_file()
    done({"removed": credentials.forget(), "path": str(path)}, f"Logged out (removed {path})")


def whoami() -> None:
    """Who the stored (or AIFACTORY_TOKEN) credentials belong to."""
    client = api()
    show_record(client.me(), [*USER_FIELDS, Col("Server", lambda _: client.base_url)], title="You")


def register(
    org_name: Annotated[str, typer.Option("--org-name", help="the organization's name")],
    kind: Annotated[OrgKind, typer.Option(help="kind of organization")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code, e.g. DE")],
    email: Annotated[str, typer.Option(help="your e-mail")],
    name: Annotated[str, typer.Option(help="your full name")],
    sector: Annotated[
        list[ApplicationField] | None, typer.Option("--sector", help="application field; repeat for several")
    ] = None,
    url: UrlOption = None,
    password: Annotated[
        bool,
        typer.Option(
            "--password",
            help=f"also set a password for the portal and `login --email` (asked for, or ${ENV_PASSWORD})",
        ),
    ] = False,
) -> None:
    """Register an organization and yourself as its admin; the new token is stored like `login`."""
    secret = (
        (os.environ.get(ENV_PASSWORD) or typer.prompt("Password", hide_input=True, confirmation_prompt=True))
        if password
        else None
    )
    with connect(url, need_token=False) as client:
        out = client.register(
            password=secret,
            organization_name=org_name,
            kind=kind.value,
            country=country,
            email=email,
            name=name,
            sectors=[s.value for s in sector or []],
        )
        saved = _remember(client, out["token"]["token"])
    show_record(
        out,
        under("organization", ORG_FIELDS) + under("user", USER_FIELDS[:3]) + under("token", TOKEN_FIELDS),
        title="Registered",
    )
    note(f"Logged in as {_who(out['user'])}; {saved}", style="green")
