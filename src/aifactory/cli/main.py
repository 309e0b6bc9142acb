"""The ``aifactory`` command: assembles the nouns, the global ``--json`` option and the one error handler."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from ..client import ApiError, AuthError, TransportError
from . import (
    audit,
    auth,
    calls,
    catalog,
    data,
    jobs,
    ledger,  # noqa: F401 - adds its commands to `allocations` and `admin`
    local,
    notifications,
    orgs,
    projects,
    proposals,
    reports,
    reviews,
    sites,
    submit,
    tokens,
    usage,
    users,
)
from .output import error
from .state import CliError, current, invocation

JSON_FLAG = "--json"


def hoist_json(args: list[str]) -> list[str]:
    """``--json`` is global but may be typed after the command too (``aifactory proposals list --json``)."""
    end = args.index("--") if "--" in args else len(args)
    if JSON_FLAG not in args[:end]:
        return args
    return [JSON_FLAG, *[a for a in args[:end] if a != JSON_FLAG], *args[end:]]


def explain(exc: Exception) -> str:
    """The one line shown for an expected failure."""
    if isinstance(exc, AuthError) and exc.status == 401:
        return f"{exc} (run `aifactory login` with a valid token)"
    if isinstance(exc, TransportError):
        return f"{exc} (is the server running? check `aifactory login --url` or AIFACTORY_URL)"
    return str(exc)


class AifactoryGroup(TyperGroup):
    """The root command: every expected failure ends here as one red line on stderr and exit code 1."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_json(list(args)))

    def invoke(self, ctx: Any) -> Any:
        with invocation():
            try:
                return super().invoke(ctx)
            except (typer.Exit, typer.Abort, typer.TyperException):
                raise  # usage errors (exit 2), --help, explicit exits
            except (ApiError, TransportError, CliError) as exc:
                error(explain(exc))
            except Exception as exc:  # noqa: BLE001 - a bug: still one line, unless debugging
                if os.environ.get("AIFACTORY_DEBUG"):
                    raise
                error(f"unexpected {type(exc).__name__}: {exc} (set AIFACTORY_DEBUG=1 for the traceback)")
            raise typer.Exit(1)


app = typer.Typer(
    cls=AifactoryGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Run and use an AI Factory: calls, proposals, reviews, projects and allocations.\n\n"
    "Talks to the API over HTTP (see `aifactory login`); `serve`, `demo` and `admin` work "
    "on this machine's database.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aifactory {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    json_output: Annotated[bool, typer.Option(JSON_FLAG, help="print the API's JSON (for scripts)")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    current().json_output = json_output


commands: list[tuple[str, Callable[..., Any]]] = [
    ("login", auth.login),
    ("logout", auth.logout),
    ("whoami", auth.whoami),
    ("register", auth.register),
    ("decide", reviews.decide),
    ("audit", audit.audit),
    ("serve", local.serve),
    ("demo", local.demo),
    ("submit", submit.submit),
    ("logs", submit.logs),
]
for name, command in commands:
    app.command(name)(command)

for name, sub in [
    ("orgs", orgs.app),
    ("users", users.app),
    ("tokens", tokens.app),
    ("sites", sites.app),
    ("calls", calls.app),
    ("proposals", proposals.app),
    ("reviews", reviews.app),
    ("projects", projects.app),
    ("allocations", projects.allocations_app),
    ("jobs", jobs.app),
    ("notifications", notifications.app),
    ("report", reports.app),
    ("admin", local.admin_app),
    ("usage", usage.app),
    ("catalog", catalog.app),
    ("data", data.app),
    ("templates", catalog.templates_app),
]:
    app.add_typer(sub, name=name)
