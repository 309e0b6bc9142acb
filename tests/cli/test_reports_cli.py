"""``aifactory report`` against the live app: the demo plus charges posted into its database (Backhaus, an
SME: 2 h in 2026-03 and 1.5 h in 2026-04; GridWise, a startup: 3 h in 2026-03)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from aifactory.domain.ledger import EntryKind, LedgerEntry
from aifactory.services import ledger
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.cli import BAKERY, OPERATOR, Cli

HOUR = 3600
CHARGES = [
    ("bakery", 2 * HOUR, datetime(2026, 3, 10, tzinfo=UTC)),
    ("bakery", 3 * HOUR // 2, datetime(2026, 4, 10, tzinfo=UTC)),
    ("gridwise", 3 * HOUR, datetime(2026, 3, 12, tzinfo=UTC)),
]


@pytest.fixture
def charged(seeded_url) -> int:
    """Posts the charges; answers the bakery's allocation id."""
    url, info = seeded_url
    engine = make_engine(url)
    try:
        with SqlUnitOfWorkFactory(make_session_factory(engine))() as uow:
            allocs = {k: uow.projects.by_proposal(info.proposal_ids[k]).allocations[0] for k in ("bakery", "gridwise")}
            for i, (key, seconds, at) in enumerate(CHARGES):
                a = allocs[key]
                ledger.post(
                    uow,
                    LedgerEntry(
                        allocation_id=a.id,
                        project_id=a.project_id,
                        resource_id=a.resource_id,
                        kind=EntryKind.CHARGE,
                        amount=seconds,
                        gpu_seconds=seconds,
                        period=f"{at:%Y-%m}",
                        at=at,
                        key=f"cli-test:{i}",
                    ),
                )
            uow.commit()
            return allocs["bakery"].id
    finally:
        engine.dispose()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_gpu_hours_as_csv_json_and_table(live_cli: Cli, charged: int) -> None:
    out = live_cli(
        "report",
        "gpu-hours",
        "--by",
        "org_kind",
        "--start",
        "2026-01",
        "--end",
        "2026-12",
        "--format",
        "csv",
        as_=OPERATOR,
    ).stdout
    parsed = rows(out)
    assert list(parsed[0]) == ["key", "label", "gpu_hours", "entries"]
    assert {r["key"]: (float(r["gpu_hours"]), int(r["entries"])) for r in parsed} == {
        "sme": (3.5, 2),
        "startup": (3.0, 1),
    }
    march = json.loads(
        live_cli("report", "gpu-hours", "--by", "month", "--end", "2026-03", "--format", "json", as_=OPERATOR).stdout
    )
    assert [(r["key"], r["gpu_hours"]) for r in march["rows"]] == [("2026-03", 5.0)]
    assert live_cli.json("report", "gpu-hours", "--by", "country", as_=OPERATOR)["total_gpu_hours"] == 6.5
    table = live_cli("report", "gpu-hours", "--by", "org_kind", as_=OPERATOR).stdout
    assert "GPU-hours by org_kind" in table and "total 6.5 GPU-hours in 3 entries" in table
    assert [line.split()[:3] for line in table.splitlines() if line.strip().startswith(("sme", "startup"))] == [
        ["sme", "sme", "3.5"],
        ["startup", "startup", "3.0"],
    ]


def test_other_reports_and_burn_down(live_cli: Cli, charged: int) -> None:
    smes = rows(live_cli("report", "smes", "--start", "2026-04", "--format", "csv", as_=OPERATOR).stdout)
    assert [(r["name"], r["kind"], r["country"]) for r in smes] == [("Backhaus Kiel GmbH", "sme", "DE")]
    util = rows(
        live_cli(
            "report", "utilization", "--start", "2026-03", "--end", "2026-03", "--format", "csv", as_=OPERATOR
        ).stdout
    )
    assert sum(float(r["gpu_hours"]) for r in util) == 5.0
    decision = live_cli("report", "time-to-decision", as_=OPERATOR).stdout
    assert "Days from submission to decision" in decision and "all" in decision
    assert rows(live_cli("report", "time-to-first-job", "--format", "csv", as_=OPERATOR).stdout)[-1]["count"] == "0"
    points = rows(live_cli("report", "burn-down", charged, "--by", "month", "--format", "csv", as_=BAKERY).stdout)
    charged_by = {p["at"]: float(p["charged_gpu_hours"]) for p in points}  # cumulative, by posting month
    assert (charged_by["2026-03"], charged_by["2026-04"], float(points[-1]["charged_gpu_hours"])) == (2.0, 3.5, 3.5)
    assert "3.5 charged" in live_cli("report", "burn-down", charged, as_=BAKERY).stdout


def test_errors_are_one_line(live_cli: Cli, charged: int) -> None:
    assert "operators" in live_cli.fails("report", "smes", as_=BAKERY)
    assert "start" in live_cli.fails("report", "gpu-hours", "--start", "2026-13", as_=OPERATOR)
    live_cli("report", "gpu-hours", "--by", "colour", as_=OPERATOR, code=2)  # a usage error, before any request
