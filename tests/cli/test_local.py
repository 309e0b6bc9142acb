"""Commands that act on the local database: admin create-operator, demo, serve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aifactory.cli import local
from aifactory.config import Settings
from aifactory.domain.errors import Unauthorized
from aifactory.services import identity
from aifactory.services.ports import SystemClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.cli import BAKERY, OPERATOR, Cli


def _authenticates(db_url: str, token: str) -> str | None:
    """The e-mail of the token's user in that database, or None when the token does not authenticate there."""
    engine = make_engine(db_url)
    try:
        with SqlUnitOfWorkFactory(make_session_factory(engine))(write=False) as uow:
            user, _ = identity.authenticate(uow, SystemClock(), token)
            return user.email
    except Unauthorized:
        return None
    finally:
        engine.dispose()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AIFACTORY_DATABASE_URL", raising=False)
    monkeypatch.setenv("AIFACTORY_DATA_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_admin_create_operator_migrates_a_fresh_data_dir_and_prints_the_token_once(cli: Cli, data_dir: Path) -> None:
    out = cli("admin", "create-operator", "--email", "Ops@Factory.example", "--name", "Olga Ops").stdout
    token = next(word for word in out.split() if word.startswith("aif_"))
    assert "Operator created" in out and "ops@factory.example" in out
    assert (data_dir / "aifactory.db").exists()
    assert _authenticates(f"sqlite:///{data_dir / 'aifactory.db'}", token) == "ops@factory.example"

    err = cli.fails("admin", "create-operator", "--email", "ops@factory.example", "--name", "Again")
    assert err == "error: 409 Conflict: a user with e-mail ops@factory.example already exists"


def test_admin_create_operator_json_and_data_dir_option(cli: Cli, tmp_path: Path) -> None:
    made = cli.json(
        "admin", "create-operator", "--email", "a@b.example", "--name", "A", "--data-dir", tmp_path / "other"
    )
    assert made["token"].startswith("aif_") and made["user_id"] == 1
    assert (tmp_path / "other" / "aifactory.db").exists()


def test_bad_configuration_is_one_line(cli: Cli, data_dir: Path) -> None:
    err = cli.fails("admin", "create-operator", "--email", "a@b.example", "--name", "A", AIFACTORY_ENV="production")
    assert err.startswith("error: invalid AIFACTORY_* configuration:") and "AIFACTORY_SECRET_KEY" in err


def test_demo_no_serve_seeds_a_fresh_database_and_prints_tokens(
    cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "run_server", lambda *a: pytest.fail("--no-serve must not serve"))
    out = cli("demo", "--no-serve", "--port", "8123").stdout
    db = data_dir / "demo" / "demo.db"
    assert "http://127.0.0.1:8123/api/v1" in out and "/api/v1/docs" in out and str(db) in out
    for email in (OPERATOR, BAKERY):
        assert email in out
    login = next(line.strip() for line in out.splitlines() if "aifactory login" in line and BAKERY in line)
    assert login == f".venv/bin/aifactory login --url http://127.0.0.1:8123 --email {BAKERY}"
    token = next(line.split()[0] for line in out.splitlines() if OPERATOR in line and "aif_" in line)
    assert _authenticates(f"sqlite:///{db}", token) == OPERATOR

    again = cli.json("demo", "--no-serve", "--data-dir", data_dir)  # a fresh database each time
    assert again["database"] == str(db) and len(again["accounts"]) == 9
    tokens = {a["email"]: a["token"] for a in again["accounts"]}
    assert tokens[OPERATOR] != token and _authenticates(f"sqlite:///{db}", token) is None
    assert _authenticates(f"sqlite:///{db}", tokens[OPERATOR]) == OPERATOR


def test_demo_keep_reuses_the_last_database_and_its_logins(
    cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "run_server", lambda *a: None)
    first = cli.json("demo", "--no-serve")
    token = next(a["token"] for a in first["accounts"] if a["email"] == BAKERY)
    kept = cli.json("demo", "--keep")
    assert kept["database"] == first["database"]
    assert {a["email"] for a in kept["accounts"]} == {a["email"] for a in first["accounts"]}
    assert all(a["token"] == "" for a in kept["accounts"])  # secrets are stored hashed: nothing new to show
    assert _authenticates(f"sqlite:///{first['database']}", token) == BAKERY
    out = cli("demo", "--keep", "--no-serve").stdout
    assert "the database was kept" in out


def test_demo_ignores_database_url_and_serves_its_sqlite_file(
    cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[tuple[Settings, str, int]] = []
    monkeypatch.setattr(local, "run_server", lambda s, host, port: served.append((s, host, port)))
    result = cli(
        "demo", "--host", "0.0.0.0", "--port", "8080", AIFACTORY_DATABASE_URL="postgresql://nobody@127.0.0.1:9/none"
    )
    assert "AIFACTORY_DATABASE_URL is ignored" in result.stderr
    ((settings, host, port),) = served
    assert settings.resolved_database_url == f"sqlite:///{data_dir / 'demo' / 'demo.db'}"
    assert (host, port) == ("0.0.0.0", 8080)


def test_serve_migrates_then_runs_uvicorn_on_the_app(cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[tuple[object, str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port: calls.append((app, host, port)))
    result = cli("serve", "--port", "8124")
    ((app, host, port),) = calls
    assert (host, port) == ("127.0.0.1", 8124) and app.title == "aifactory API"
    assert (data_dir / "aifactory.db").exists() and "http://127.0.0.1:8124/api/v1" in result.stderr


def test_serve_with_an_unreachable_database_is_one_line(cli: Cli, data_dir: Path) -> None:
    err = cli.fails("serve", AIFACTORY_DATABASE_URL="postgresql://u:secret@127.0.0.1:9/none")
    assert err.startswith("error: database postgresql+psycopg://u:***@127.0.0.1:9/none:")
    assert "secret" not in err


def test_version_and_help(cli: Cli) -> None:
    assert cli("--version").stdout.startswith("aifactory ")
    out = cli("--help").stdout
    for noun in ("login", "proposals", "reviews", "decide", "allocations", "audit", "demo", "serve", "admin"):
        assert noun in out
    assert json.loads(cli("--json", "logout").stdout)["removed"] is False
