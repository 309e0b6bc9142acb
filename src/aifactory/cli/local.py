"""Commands that work on this machine's database instead of over HTTP: ``serve``, ``demo``, ``admin``.

The server side (settings, SQLAlchemy, the app, uvicorn) is imported when one of them runs, so that
the HTTP commands start fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.panel import Panel

from ..domain.errors import DomainError
from ..services.ports import SystemClock
from .output import Col, emit, record
from .state import CliError

if TYPE_CHECKING:
    from ..config import Settings
    from ..store.uow import SqlUnitOfWorkFactory

admin_app = typer.Typer(
    help="Administration on the server's machine (database access is the credential).", no_args_is_help=True
)

Host = Annotated[str, typer.Option(help="address to listen on")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", file_okay=False, help="state folder (default: $AIFACTORY_DATA_DIR or the per-user data folder)"
    ),
]


def local_settings(**overrides: Any) -> Settings:  # Any: each value goes to its typed settings field
    """Settings from the environment (``AIFACTORY_*``), with the given values instead where not None."""
    import pydantic

    from ..config import Settings

    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise CliError(f"invalid AIFACTORY_* configuration: {problems}") from None
    settings.ensure_dirs()
    return settings


def shown_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _store_errors(url: str) -> Iterator[None]:
    """Database and domain failures as one-line CLI errors."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..services.ports import StoreUnavailable

    try:
        yield
    except (SQLAlchemyError, StoreUnavailable) as exc:
        raise CliError(f"database {shown_url(url)}: {str(exc).splitlines()[0]}") from None
    except DomainError as exc:
        raise CliError(f"{exc.status} {exc.title}: {exc}") from None


def migrate(settings: Settings) -> str:
    """Bring the database to the newest schema; its URL."""
    from ..store.migrate import upgrade

    url = settings.resolved_database_url
    with _store_errors(url):
        upgrade(url)
    return url


@contextmanager
def local_store(settings: Settings) -> Iterator[SqlUnitOfWorkFactory]:
    """The migrated database as a unit-of-work factory (what services take)."""
    from ..store.engine import make_engine, make_session_factory
    from ..store.uow import SqlUnitOfWorkFactory

    url = migrate(settings)
    engine = make_engine(url)
    try:
        with _store_errors(url):
            yield SqlUnitOfWorkFactory(make_session_factory(engine))
    finally:
        engine.dispose()


def run_server(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from ..api.app import create_app

    if settings.backend == "local":  # whether jobs run sandboxed, said loudly at every start
        from ..backends.local import startup_notice

        typer.echo(startup_notice(settings), err=True)
    uvicorn.run(create_app(settings), host=host, port=port)


def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the API server: migrate the database to the newest schema, then serve."""
    os.umask(0o077)  # what the server writes (database, logs, job folders) is its own unless it says otherwise
    settings = local_settings()
    migrate(settings)
    typer.echo(
        f"aifactory API on http://{host}:{port}/api/v1 (docs: /api/v1/docs); "
        f"database {shown_url(settings.resolved_database_url)}; jobs on the {settings.backend} backend "
        f"(reconciled every {settings.reconcile_seconds:g}s)",
        err=True,
    )
    run_server(settings, host, port)


def _login_line(url: str, token: str) -> str:
    return f"aifactory login --url {url} --token {token}"


def _fresh_demo_db(folder: Path) -> Path:
    db = folder / "demo.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def _kept_demo_db(folder: Path) -> Path | None:
    """The demo database of an earlier run, if there is one to keep."""
    db = folder / "demo.db"
    return db if db.is_file() and db.stat().st_size > 0 else None


def _demo_accounts(tokens: dict[str, str]) -> list[dict[str, str]]:
    """The demo's people with their roles (and their new tokens, when the database was just seeded)."""
    from ..demo import OPERATOR_EMAIL, ORGS, REVIEWERS

    who = {OPERATOR_EMAIL: "operator"} | {e: "reviewer" for e, _ in REVIEWERS}
    who |= {email: f"{kind.value}: {org}" for org, kind, _c, _s, email, _n in ORGS}
    emails = list(tokens) or list(who)
    return [{"email": email, "role": who.get(email, ""), "token": tokens.get(email, "")} for email in emails]


def _print_demo(api_url: str, db: Path, accounts: list[dict[str, str]]) -> None:
    from ..demo import DEMO_PASSWORD, OPERATOR_EMAIL

    portal = api_url.removesuffix("/api/v1") + "/"
    server = api_url.removesuffix("/api/v1")
    data = {
        "api_url": api_url,
        "docs_url": f"{api_url}/docs",
        "portal_url": portal,
        "portal_password": DEMO_PASSWORD,
        "database": str(db),
        "accounts": accounts,
        "login": f"aifactory login --url {server} --email {OPERATOR_EMAIL}",
    }
    intro = Panel.fit(
        f"Portal {portal}  (sign in with any e-mail below, password {DEMO_PASSWORD})\n"
        f"API    {api_url}\nDocs   {api_url}/docs\nData   SQLite {db} (always, for the demo)",
        title="aifactory demo",
        border_style="green",
    )
    if accounts and accounts[0].get("token"):
        lines = "\n".join(f"  {a['token']}  {a['email']:<28} {a['role']}" for a in accounts)
        table = f"Demo accounts (API token, e-mail, role):\n{lines}"
    else:
        table = "Demo accounts (e-mail, role; the database was kept, so no new tokens):\n" + "\n".join(
            f"  {a['email']:<28} {a['role']}" for a in accounts
        )
    bakery = next(a for a in accounts if "backhaus" in a["email"])
    logins = (
        f"In a second terminal, log the CLI in (password {DEMO_PASSWORD}), e.g. as the bakery SME:\n"
        f"  .venv/bin/aifactory login --url {server} --email {bakery['email']}\n"
        f"or as the operator:\n  .venv/bin/aifactory login --url {server} --email {OPERATOR_EMAIL}\n"
        f"The demo starts from a fresh database each time (stored logins then answer 401); "
        f"`--keep` keeps the last one."
    )
    emit(data, intro, table, logins)


def _demo_settings(data_dir: Path | None, keep: bool) -> tuple[Settings, Path, bool]:
    """The demo's settings on its own SQLite file; whether that file was kept from an earlier run."""
    base = local_settings(data_dir=data_dir)
    folder = base.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    kept = _kept_demo_db(folder) if keep else None
    db = kept or _fresh_demo_db(folder)
    if os.environ.get("AIFACTORY_DATABASE_URL"):
        typer.echo("note: AIFACTORY_DATABASE_URL is ignored; the demo always runs on its own SQLite file", err=True)
    return local_settings(data_dir=folder, database_url=f"sqlite:///{db}"), db, kept is not None


def demo(
    port: Port = 8000,
    host: Host = "127.0.0.1",
    data_dir: DataDir = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="seed and print, but do not serve")] = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="keep the database of the last demo run (its logins stay valid)")
    ] = False,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="seed today's demo only, without its year of past usage")
    ] = False,
) -> None:
    """A demo factory (site, calls, organizations, proposals in every state, and a year of history) on its own
    SQLite file, fresh at every start unless --keep."""
    import time

    from ..demo import seed_demo

    os.umask(0o077)  # as `serve`: the demo's database and folders are the server's own
    started = time.perf_counter()
    settings, db, kept = _demo_settings(data_dir, keep)
    with local_store(settings) as uow_factory:
        info = None if kept else seed_demo(uow_factory, SystemClock(), history=not no_history)
    tokens = info.tokens if info else {}
    if info is not None:
        rows = sum(info.history_rows.values())
        past = f"; its year of history, {rows:,} rows, took {info.history_seconds:.1f} s" if rows else ""
        typer.echo(f"demo database ready in {time.perf_counter() - started:.1f} s{past}", err=True)
    accounts = _demo_accounts(tokens)
    _print_demo(f"http://{host}:{port}/api/v1", db, accounts)
    if not no_serve:
        run_server(settings, host, port)


@admin_app.command("create-operator")
def create_operator(
    email: Annotated[str, typer.Option(help="the operator's e-mail")],
    name: Annotated[str, typer.Option(help="the operator's name")],
    data_dir: DataDir = None,
) -> None:
    """Create an operator in the local database (migrating it first) and print their token once."""
    from ..services.identity import bootstrap_operator

    settings = local_settings(data_dir=data_dir)
    with local_store(settings) as uow_factory, uow_factory() as uow:
        user, issued = bootstrap_operator(uow, SystemClock(), email=email, name=name)
    data = {
        "user_id": user.id,
        "email": user.email,
        "name": user.name,
        "token": issued.secret,
        "database": shown_url(settings.resolved_database_url),
    }
    fields = [
        Col("User", "user_id"),
        Col("E-mail", "email"),
        Col("Name", "name"),
        Col("Database", "database"),
        Col("Token (shown once)", "token", style=lambda _: "bold yellow"),
    ]
    emit(
        data,
        record(data, fields, title="Operator created"),
        "Log in with (use the URL where `aifactory serve` runs):\n  "
        + _login_line("http://127.0.0.1:8000", issued.secret),
    )
