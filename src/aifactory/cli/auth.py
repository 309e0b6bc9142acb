"""Sessions: ``login``, ``logout``, ``whoami`` and self-service ``register``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..client import AifactoryClient
from ..domain.enums import ApplicationField, OrgKind
from . import credentials
from .orgs import ORG_COLS
from .output import Col, done, note, show_record, under
from .state import api, connect
from .users import TOKEN_FIELDS, USER_FIELDS, roles

ORG_FIELDS = [Col("Organization", "id"), *ORG_COLS[1:]]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar=credentials.ENV_URL,
        show_envvar=True,
        help="the server, e.g. http://127.0.0.1:8000 (…/api/v1 is added)",
    ),
]


def _who(user: dict) -> str:
    return f"{user['name']} <{user['email']}> ({roles(user)})"


def _remember(client: AifactoryClient, token: str) -> str:
    path = credentials.save(client.base_url, token)
    return f"credentials saved to {path}"


def login(
    token: Annotated[str, typer.Option(prompt=True, hide_input=True, help="an API token (aif_…)")],
    url: UrlOption = None,
) -> None:
    """Check a token against the server and remember both for the next commands.

    --url defaults to the stored one, so a new token for the same server needs only --token.
    """
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
) -> None:
    """Register an organization and yourself as its admin; the new token is stored like `login`."""
    with connect(url, need_token=False) as client:
        out = client.register(
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
