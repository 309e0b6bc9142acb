"""Teams through the CLI against a live server: invite to a project and to an organization, list and revoke
invitations, accept from the link's token, organization members; scoped tokens."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.config import Settings
from aifactory.demo import DemoInfo
from tests.support.cli import BAKERY, OPERATOR, Cli
from tests.support.demo import PEOPLE
from tests.support.live import live_server
from tests.support.mail import MailSink, smtp_sink
from tests.support.teams import link_token


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def mailing_cli(seeded_url: tuple[str, DemoInfo], smtp: MailSink, tmp_path: Path) -> Iterator[Cli]:
    """The CLI next to a live server that sends its e-mails to the sink."""
    settings = Settings(
        database_url=seeded_url[0],
        data_dir=tmp_path / "data",
        reconcile_seconds=0.2,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        public_url="https://jaif.example",
    )
    with live_server(settings, seeded_url[1]) as server:
        yield Cli(tmp_path / "config", server)


def wait_for_mail(sink: MailSink, email: str) -> str:
    """The token of the invitation e-mail to ``email`` (delivered by the server's own loop)."""
    deadline = time.monotonic() + 20
    while not sink.to(email) and time.monotonic() < deadline:
        time.sleep(0.1)
    return link_token(sink, email)


def colleague(cli: Cli, email: str, org_id: int | None) -> str:
    args = ["users", "create", "--email", email, "--name", email.split("@")[0]]
    made = cli.json(*args, *(["--org", org_id] if org_id else []), as_=OPERATOR)
    return str(made["token"]["token"])


def test_a_pi_invites_and_the_colleague_accepts(
    mailing_cli: Cli, smtp: MailSink, seeded_url: tuple[str, DemoInfo]
) -> None:
    live_cli = mailing_cli
    (project,) = live_cli.json("projects", "list", as_=BAKERY)["items"]
    out = live_cli("projects", "invite", project["id"], "ben@backhaus-kiel.example", as_=BAKERY).stdout
    assert "sent to ben@backhaus-kiel.example as member" in out
    same = live_cli("projects", "add-member", project["id"], "--email", "nobody@nowhere.example", as_=BAKERY).stdout
    assert "sent to nobody@nowhere.example as member" in same  # the same answer, no "no such user"
    listed = live_cli("projects", "invitations", project["id"], as_=BAKERY).stdout
    assert "ben@backhaus-kiel.example" in listed and "nobody@nowhere.example" in listed
    pending = live_cli.json("projects", "invitations", project["id"], as_=BAKERY)
    nobody = next(i for i in pending if i["email"] == "nobody@nowhere.example")
    assert "revoked" in live_cli("projects", "revoke-invitation", nobody["id"], as_=BAKERY).stdout
    token = wait_for_mail(smtp, "ben@backhaus-kiel.example")
    ben = colleague(live_cli, "ben@backhaus-kiel.example", seeded_url[1].org_ids["Backhaus Kiel GmbH"])
    joined = live_cli(
        "projects",
        "accept",
        f"https://x.example/invitations/{token}",
        AIFACTORY_TOKEN=ben,
        AIFACTORY_URL=live_cli.live.url,
    ).stdout
    assert f"you joined project {project['id']}" in joined
    again = live_cli.fails("projects", "accept", token, AIFACTORY_TOKEN=ben, AIFACTORY_URL=live_cli.live.url)
    assert again.startswith("error: 404") and "already used" in again
    err = live_cli.fails("projects", "invite", project["id"], "not-an-address", as_=BAKERY)
    assert err.startswith("error: 422") and "email" in err


def test_an_admin_invites_to_the_organization_and_lists_members(
    live_cli: Cli, seeded_url: tuple[str, DemoInfo]
) -> None:
    org = seeded_url[1].org_ids["Backhaus Kiel GmbH"]
    assert (
        "sent to nina@backhaus-kiel.example"
        in live_cli("orgs", "invite", org, "nina@backhaus-kiel.example", as_=BAKERY).stdout
    )
    members = live_cli.json("orgs", "members", org, as_=BAKERY)
    assert [m["email"] for m in members] == [BAKERY]
    assert live_cli.fails("orgs", "invite", org, "x@y.example", as_=PEOPLE["claire"]).startswith("error: 404")
    assert live_cli.fails("orgs", "members", org, as_=PEOPLE["lars"]).startswith("error: 404")


def test_a_read_only_token_cannot_invite(live_cli: Cli) -> None:
    made = live_cli.json("tokens", "create", "--name", "ro", "--scope", "read", as_=BAKERY)
    assert made["scope"] == "read"
    (project,) = live_cli.json("projects", "list", AIFACTORY_TOKEN=made["token"], AIFACTORY_URL=live_cli.live.url)[
        "items"
    ]
    err = live_cli.fails(
        "projects",
        "invite",
        project["id"],
        "a@b.example",
        AIFACTORY_TOKEN=made["token"],
        AIFACTORY_URL=live_cli.live.url,
    )
    assert err.startswith("error: 403") and "read-only" in err
    bad = live_cli.fails("tokens", "create", "--scope", "project", as_=BAKERY)
    assert bad.startswith("error: 422") and "project_id" in bad
