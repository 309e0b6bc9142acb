"""login / whoami / logout / register: credentials stored with mode 0600, environment overrides, errors."""

from __future__ import annotations

import json
import stat

from tests.support.cli import BAKERY, OPERATOR, Cli
from tests.support.live import LiveServer


def test_login_verifies_and_stores_credentials_readable_by_owner_only(live_cli: Cli, live: LiveServer) -> None:
    out = live_cli("login", "--url", live.url, "--token", live.token(OPERATOR)).stdout
    assert "Logged in" in out and OPERATOR in out and "operator" in out

    path = live_cli.config_dir / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": f"{live.url}/api/v1", "token": live.token(OPERATOR)}

    who = live_cli("whoami").stdout
    assert OPERATOR in who and "Factory Operator" in who and live.url in who
    assert live_cli.json("whoami")["is_operator"] is True


def test_environment_overrides_the_stored_token(live_cli: Cli, live: LiveServer) -> None:
    live_cli("login", "--url", live.url, "--token", live.token(OPERATOR))
    assert live_cli.json("whoami", AIFACTORY_TOKEN=live.token(BAKERY))["email"] == BAKERY
    assert live_cli.json("whoami")["email"] == OPERATOR


def test_login_with_a_bad_token_stores_nothing(live_cli: Cli, live: LiveServer) -> None:
    err = live_cli.fails("login", "--url", live.url, "--token", "aif_not-a-real-token")
    assert err.startswith("error: 401 Unauthorized:") and "aifactory login" in err
    assert not (live_cli.config_dir / "credentials.json").exists()


def test_logout_forgets_credentials(live_cli: Cli, live: LiveServer) -> None:
    live_cli("login", "--url", live.url, "--token", live.token(BAKERY))
    assert "Logged out" in live_cli("logout").stdout
    assert not (live_cli.config_dir / "credentials.json").exists()
    err = live_cli.fails("whoami")
    assert "not logged in" in err and "aifactory login" in err


def test_commands_without_login_say_how_to_log_in(cli: Cli) -> None:
    err = cli.fails("proposals", "list")
    assert err == (
        "error: not logged in: run `aifactory login --url URL --token TOKEN` (or set AIFACTORY_URL and AIFACTORY_TOKEN)"
    )


def test_unreachable_server_is_one_line_naming_the_url(cli: Cli) -> None:
    err = cli.fails("whoami", AIFACTORY_URL="http://127.0.0.1:9", AIFACTORY_TOKEN="aif_x")
    assert err.startswith("error: cannot reach http://127.0.0.1:9/api/v1/me")


def test_corrupt_credentials_file_is_explained(cli: Cli) -> None:
    cli.config_dir.mkdir(parents=True)
    (cli.config_dir / "credentials.json").write_text("{not json")
    assert "run `aifactory login` again" in cli.fails("whoami")


def test_register_creates_the_organization_and_logs_in(live_cli: Cli, live: LiveServer) -> None:
    result = live_cli(
        "register",
        "--url",
        live.url,
        "--org-name",
        "Brotzeit Bäckerei",
        "--kind",
        "sme",
        "--country",
        "de",
        "--sector",
        "food",
        "--sector",
        "manufacturing",
        "--email",
        "berta@brotzeit.example",
        "--name",
        "Berta Brot",
    )
    assert "Brotzeit Bäckerei" in result.stdout and "aif_" in result.stdout
    stored = json.loads((live_cli.config_dir / "credentials.json").read_text())
    assert stored["token"].startswith("aif_")
    me = live_cli.json("whoami")
    assert me["email"] == "berta@brotzeit.example" and me["is_org_admin"] is True
    org = live_cli.json("orgs", "show", me["organization_id"])
    assert org["country"] == "DE" and org["sectors"] == ["food", "manufacturing"]


def test_register_with_an_unknown_country_is_a_one_line_422(live_cli: Cli, live: LiveServer) -> None:
    err = live_cli.fails(
        "register",
        "--url",
        live.url,
        "--org-name",
        "Nowhere Ltd",
        "--kind",
        "startup",
        "--country",
        "XX",
        "--email",
        "x@nowhere.example",
        "--name",
        "X",
    )
    assert err == "error: 422 Invalid input: organization.country: 'XX' is not an ISO 3166-1 alpha-2 country code"
    assert not (live_cli.config_dir / "credentials.json").exists()


def test_register_with_an_unknown_kind_is_a_usage_error(cli: Cli) -> None:
    result = cli(
        "register",
        "--url",
        "http://127.0.0.1:9",
        "--org-name",
        "X",
        "--kind",
        "bakery",
        "--country",
        "DE",
        "--email",
        "x@x.example",
        "--name",
        "X",
        code=2,
    )
    assert "--kind" in result.stderr


def test_tokens_create_list_revoke(live_cli: Cli) -> None:
    created = live_cli.json("tokens", "create", "--name", "laptop", "--ttl-days", "7", as_=BAKERY)
    assert created["token"].startswith("aif_") and created["name"] == "laptop"
    listed = live_cli("tokens", "list", as_=BAKERY).stdout
    assert "laptop" in listed and created["prefix"] in listed
    revoked = live_cli.json("tokens", "revoke", created["id"], as_=BAKERY)
    assert revoked["revoked_at"] is not None
    err = live_cli.fails("whoami", AIFACTORY_URL=live_cli.live.url, AIFACTORY_TOKEN=created["token"])
    assert "401" in err


def test_login_with_email_and_password_gets_and_stores_a_new_token(live_cli: Cli, live: LiveServer) -> None:
    from aifactory.demo import DEMO_PASSWORD

    out = live_cli("login", "--url", live.url, "--email", BAKERY, AIFACTORY_PASSWORD=DEMO_PASSWORD).stdout
    assert "Logged in" in out and BAKERY in out
    stored = json.loads((live_cli.config_dir / "credentials.json").read_text())
    assert stored["token"].startswith("aif_") and stored["token"] != live.token(BAKERY)
    assert live_cli.json("whoami")["email"] == BAKERY
    assert any(t["name"].startswith("cli ") for t in live_cli.json("tokens", "list"))


def test_login_with_a_wrong_password_is_one_line_and_stores_nothing(live_cli: Cli, live: LiveServer) -> None:
    err = live_cli.fails("login", "--url", live.url, "--email", BAKERY, AIFACTORY_PASSWORD="wrong-password-1")
    assert err.startswith("error: 401") and "wrong e-mail address or password" in err and "\n" not in err.strip()
    assert not (live_cli.config_dir / "credentials.json").exists()
