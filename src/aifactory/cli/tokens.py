"""``aifactory tokens``: your API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from ..domain.teams import TokenScope
from .output import Col, done, show_record, show_rows
from .state import api
from .users import TOKEN_FIELDS

app = typer.Typer(help="Your API tokens: list, create, revoke.", no_args_is_help=True)

TOKEN_COLS = [
    Col("ID", "id", justify="right"),
    Col("Name", "name", wrap=True),
    Col("Prefix", "prefix"),
    Col("Created", "created_at", optional=True),
    Col("Expires", "expires_at"),
    Col("Last used", "last_used_at", optional=True),
    Col("Revoked", "revoked_at", style=lambda v: "red" if v else None),
    Col("Scope", "scope", optional=True),
]


@app.command("list")
def list_tokens() -> None:
    """List your tokens (secrets are never shown again)."""
    show_rows(api().list_tokens(), TOKEN_COLS, title="API tokens")


@app.command("create")
def create_token(
    name: Annotated[str, typer.Option(help="a label, e.g. the machine it is for")] = "cli",
    ttl_days: Annotated[int, typer.Option(min=1, max=366, help="days until it expires")] = 90,
    scope: Annotated[
        TokenScope, typer.Option(help="full; read (GET only); jobs (jobs, templates, storage); project")
    ] = (TokenScope.FULL),
    project: Annotated[int | None, typer.Option("--project", help="the project of a 'project' token")] = None,
) -> None:
    """Create a token; its secret is printed this once."""
    made = api().create_token(name, ttl_days, scope=scope.value, project_id=project)
    show_record(
        made,
        [*TOKEN_FIELDS, Col("Scope", "scope"), Col("Project", "scope_project_id", optional=True)],
        title="Token created",
    )


@app.command("revoke")
def revoke_token(token_id: Annotated[int, typer.Argument(help="token id (see `aifactory tokens list`)")]) -> None:
    """Revoke a token at once."""
    tok = api().revoke_token(token_id)
    done(tok, f"Token {tok['id']} ({tok['name']}, {tok['prefix']}…) revoked")
