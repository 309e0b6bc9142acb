"""``aifactory notifications list`` and the client's notification methods, over HTTP against the live app."""

from __future__ import annotations

import pytest

from aifactory.client import AifactoryClient
from aifactory.demo import DemoInfo
from aifactory.services.notifications import note
from aifactory.services.ports import SystemClock
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.cli import BAKERY, OPERATOR, Cli
from tests.support.live import LiveServer

GRIDWISE = "daan@gridwise.example"
OUTSIDER = "claire@medvision.example"


@pytest.fixture
def raised(seeded_url: tuple[str, DemoInfo], live: LiveServer) -> dict[str, int]:
    """The bakery's allocation at 50 % and GridWise's about to expire, written into the served database
    (its reconciler may deliver them meanwhile: no channel is configured, so they become ``off``)."""
    url, info = seeded_url
    engine = make_engine(url)
    try:
        with SqlUnitOfWorkFactory(make_session_factory(engine))() as uow:
            ids = {k: uow.projects.by_proposal(info.proposal_ids[k]).id for k in ("bakery", "gridwise")}
            bakery, grid = (uow.projects.get(ids[k]).allocations[0] for k in ("bakery", "gridwise"))
            note(uow, SystemClock(), bakery, "threshold-50", "Project 'bakery' has used 50% of its GPU-hours")
            note(uow, SystemClock(), grid, "expiring-7d", "The allocation of project 'grid' ends in 7 days")
            uow.commit()
    finally:
        engine.dispose()
    return ids


def test_list_shows_a_table_of_your_projects_notifications(live_cli: Cli, raised: dict[str, int]) -> None:
    out = live_cli("notifications", "outbox", as_=BAKERY).stdout
    header = next(line for line in out.splitlines() if "Event" in line).split()
    assert header == ["ID", "Project", "Allocation", "Event", "Message", "Raised", "Webhook", "E-mail"]
    assert "threshold-50" in out and "Project 'bakery' has used 50% of its GPU-hours" in out
    assert "expiring-7d" not in out  # GridWise's, not the bakery's
    assert "expiring-7d" in live_cli("notifications", "outbox", as_=GRIDWISE).stdout


def test_list_json_and_project_filter(live_cli: Cli, raised: dict[str, int]) -> None:
    page = live_cli.json("notifications", "outbox", "--project", raised["gridwise"], as_=OPERATOR)
    assert [(n["project_id"], n["event"]) for n in page["items"]] == [(raised["gridwise"], "expiring-7d")]
    assert page["total"] == 1
    everything = live_cli.json("notifications", "outbox", "--limit", 1, as_=OPERATOR)
    assert (everything["total"], len(everything["items"]), everything["items"][0]["event"]) == (2, 1, "expiring-7d")
    assert live_cli.json("notifications", "outbox", as_=OUTSIDER)["items"] == []


def test_another_tenants_project_is_one_line_error(live_cli: Cli, raised: dict[str, int]) -> None:
    line = live_cli.fails("notifications", "outbox", "--project", raised["bakery"], as_=GRIDWISE)
    assert line == f"error: 404 Not found: project {raised['bakery']} not found"


def test_client_lists_and_iterates(live: LiveServer, raised: dict[str, int]) -> None:
    with AifactoryClient(live.url, live.token(OPERATOR), retries=0) as client:
        assert client.list_outbox(project_id=raised["bakery"])["total"] == 1
        assert [n["event"] for n in client.iter_outbox(page_size=1)] == ["expiring-7d", "threshold-50"]
