"""A report on a what-if scenario that does not exist is an error naming it: NotFound in the services, a
404 problem+json in the API, one line and exit 1 in the CLI; a scenario an import created reports its usage
(even none)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.config import Settings
from aifactory.demo import OPERATOR_EMAIL, seed_demo
from aifactory.domain.errors import NotFound
from aifactory.services import reports
from aifactory.services.context import Actor
from aifactory.services.ports import SystemClock
from aifactory.services.usage_import import import_trace
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.api import assert_problem
from tests.support.cli import OPERATOR, Cli
from tests.support.demo import seed_demo_sqlite
from tests.support.live import live_server
from tests.support.traces import SWF21


def _import(uow_factory, clock, tmp_path: Path, scenario: str, **kw) -> None:
    path = tmp_path / "site.swf"
    path.write_bytes(SWF21)
    args = dict(fmt="swf", scenario=scenario, default_project="1", resource="booster", gpus_per_processor="1/4")
    import_trace(uow_factory, clock, path, **(args | kw))


def test_the_services_refuse_an_unknown_scenario_and_name_the_known_ones(uow_factory, clock, tmp_path) -> None:
    seed_demo(uow_factory, clock)
    _import(uow_factory, clock, tmp_path, "atlas")
    _import(uow_factory, clock, tmp_path, "empty", default_project=None)  # every record unmapped: no entry
    with uow_factory(write=False) as uow:
        operator = Actor(uow.users.by_email(OPERATOR_EMAIL))
        for call in (
            lambda: reports.gpu_hours_by(uow, operator, "month", scenario="atlsa"),
            lambda: reports.smes_served(uow, operator, scenario="atlsa"),
            lambda: reports.utilization(uow, operator, "2026-01", "2026-02", scenario="atlsa"),
        ):
            with pytest.raises(NotFound) as err:
                call()
            assert str(err.value) == "scenario: no what-if scenario named 'atlsa' (known: atlas, empty)"
            assert [e.field for e in err.value.errors] == ["scenario"]
        assert reports.gpu_hours_by(uow, operator, "month", scenario="atlas").total_entries == 5
        assert reports.gpu_hours_by(uow, operator, "month", scenario="empty").rows == []  # it exists: no error
        assert reports.gpu_hours_by(uow, operator, "month", scenario="").scenario is None  # empty: real usage


def test_the_api_answers_404_problem_json_naming_the_scenario(api) -> None:
    for path in ("/reports/gpu-hours?by=month", "/reports/smes", "/reports/utilization?start=2026-01&end=2026-01"):
        r = api.get(f"{path}{'&' if '?' in path else '?'}scenario=nope", "operator")
        body = assert_problem(r, 404, "scenario", detail="no what-if scenario named 'nope'")
        assert body["errors"] == [
            {"field": "scenario", "message": "no what-if scenario named 'nope' (known: none imported)"}
        ]


@pytest.fixture
def live_cli(_sqlite_template: Path, tmp_path: Path) -> Iterator[Cli]:
    seeded = seed_demo_sqlite(_sqlite_template, tmp_path / "cli.db")
    engine = make_engine(seeded.url)
    try:
        factory = SqlUnitOfWorkFactory(make_session_factory(engine))
        _import(factory, SystemClock(), tmp_path, "atlas")
    finally:
        engine.dispose()
    settings = Settings(database_url=seeded.url, data_dir=tmp_path / "data", reconcile_seconds=60)
    with live_server(settings, seeded.info) as server:
        yield Cli(tmp_path / "config", server)


def test_the_cli_says_so_in_one_line_and_exits_1(live_cli: Cli) -> None:
    line = live_cli.fails("report", "gpu-hours", "--by", "month", "--scenario", "nope", as_=OPERATOR)
    assert "404" in line and "no what-if scenario named 'nope' (known: atlas)" in line
    assert "atlas" in live_cli.fails("report", "smes", "--scenario", "atlsa", as_=OPERATOR)
    data = live_cli.json("report", "gpu-hours", "--by", "month", "--scenario", "atlas", as_=OPERATOR)
    assert [(r["key"], r["entries"]) for r in data["rows"]] == [("2026-01", 5), ("2026-02", 2)]
