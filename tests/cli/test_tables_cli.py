"""CLI tables on an 80-column terminal: no word of the data is broken, no line is wider than the terminal,
columns that do not fit are left out (or each row stacked), and ids come with names where a lookup is cheap."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest
from rich.console import Console

from aifactory.cli.output import Col, Listing, dig, table
from tests.support.cli import BAKERY, OPERATOR, Cli
from tests.support.live import LiveServer

SHA = "3f7a0c9d1e2b4a5968770a1b2c3d4e5f60718293a4b5c6d7e8f9012345678901"


def rendered(listing: Listing, width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(listing)
    return console.export_text()


def assert_words_whole(out: str, items: Iterable[Mapping[str, Any]], keys: Sequence[str], width: int = 80) -> None:
    """Every word of the named fields appears whole in ``out``, and no line is wider than ``width``."""
    longest = max((len(line.rstrip()) for line in out.splitlines()), default=0)
    assert longest <= width, out
    flat = re.sub(r"\s+", " ", out)
    for item in items:
        for key in keys:
            value = dig(item, key)
            for word in (", ".join(map(str, value)) if isinstance(value, list) else str(value or "")).split():
                assert word in flat, (word, out)


ROWS = [
    {
        "id": 12,
        "name": "train-iris-nightly",
        "project": "Bake less waste: demand forecasting for 40 bakery branches",
        "state": "completed",
        "created_at": "2026-03-01T10:22:33",
        "reason": "",
    },
    {
        "id": 13,
        "name": "bakery forecast",
        "project": "Foundation model fine-tuning for chest X-ray triage",
        "state": "failed",
        "created_at": "2026-03-01T11:02:00",
        "reason": "the job exceeded its memory limit of 2G and was stopped by the kernel's out-of-memory killer",
    },
]
COLS = [
    Col("ID", "id", justify="right"),
    Col("Name", "name", wrap=True),
    Col("Project", "project", wrap=True),
    Col("State", "state"),
    Col("Created", "created_at", optional=True),
    Col("Reason", "reason", wrap=True),
]


def test_wrapping_columns_break_between_words_only() -> None:
    out = rendered(table(ROWS, COLS, title="Jobs"), width=100)
    assert_words_whole(out, ROWS, ["name", "project", "state", "reason"], width=100)
    assert "2026-03-01 10:22" in out  # the optional column fits here
    assert re.search(r"^\s*13\s+bakery forecast\s+Foundation model", out, re.MULTILINE)  # side by side
    assert len(out.splitlines()) > 8  # the long texts wrapped instead of running off the edge


def test_optional_columns_go_first_when_the_terminal_is_narrow() -> None:
    out = rendered(table(ROWS, COLS, title="Jobs"))
    assert "Created" not in out and "2026-03-01" not in out
    assert re.search(r"^\s*13\s+bakery forecast\s+Foundation", out, re.MULTILINE)  # still a table
    assert_words_whole(out, ROWS, ["name", "project", "state", "reason"])


def test_rows_are_stacked_when_even_whole_words_do_not_fit_side_by_side() -> None:
    narrow = rendered(table(ROWS, COLS, title="Jobs"), width=50)
    assert re.search(r"^Name\s+bakery forecast", narrow, re.MULTILINE)
    assert_words_whole(narrow, ROWS, ["name", "project", "state", "reason"], width=50)
    rows = [{"path": "model/weights.json", "size": 1234, "sha256": SHA}]
    cols = [Col("Path", "path", wrap=True), Col("Size", "size", justify="right"), Col("SHA-256", "sha256")]
    out = rendered(table(rows, cols, title="Artifacts", caption="1 of 1"))
    assert_words_whole(out, rows, ["path", "sha256"])
    assert re.search(r"SHA-256\s+" + SHA, out) and "Artifacts" in out and "1 of 1" in out
    wide = rendered(table(rows, cols), width=120)  # room enough: one row of a table
    assert re.search(r"model/weights.json\s+1,234\s+" + SHA, wide)


def test_a_table_that_fits_is_left_as_it_is() -> None:
    rows = [{"id": 1, "name": "hello"}]
    out = rendered(table(rows, [Col("ID", "id"), Col("Name", "name", wrap=True)]))
    assert re.search(r"ID\s+Name", out) and re.search(r"1\s+hello", out)


# -- the commands, against the live demo, on an 80-column terminal --------------------------------------


LISTINGS = [
    (["proposals", "list"], OPERATOR, ["title", "status"]),
    (["calls", "list"], OPERATOR, ["slug", "access_mode"]),
    (["projects", "list"], OPERATOR, ["name", "slurm_account"]),
    (["allocations", "list"], OPERATOR, ["status"]),
    (["users", "list"], OPERATOR, ["email", "name"]),
    (["orgs", "list"], OPERATOR, ["name", "sectors"]),
    (["catalog", "search"], BAKERY, ["slug", "title", "tags"]),
    (["templates", "list"], BAKERY, ["slug", "title", "tags"]),
    (["audit"], OPERATOR, ["action"]),
    (["tokens", "list"], BAKERY, ["name", "prefix"]),
    (["sites", "list"], OPERATOR, ["slug", "name"]),
]


@pytest.mark.parametrize(("argv", "who", "keys"), LISTINGS, ids=[" ".join(a) for a, _, _ in LISTINGS])
def test_listings_keep_words_whole_at_80_columns(live_cli: Cli, argv: list[str], who: str, keys: list[str]) -> None:
    data = live_cli.json(*argv, as_=who)
    items = data["items"] if isinstance(data, dict) else data
    assert items
    out = live_cli(*argv, as_=who, COLUMNS="80").stdout
    assert_words_whole(out, items, keys)


def test_listings_name_what_their_ids_point_to(live_cli: Cli, live: LiveServer) -> None:
    proposals = live_cli(*["proposals", "list"], as_=OPERATOR, COLUMNS="80").stdout
    assert "playground-2026" in proposals and "large-scale-2026" in proposals  # the calls' slugs by their ids
    (project,) = live_cli.json("projects", "list", as_=BAKERY)["items"]
    allocations = live_cli("allocations", "list", as_=BAKERY, COLUMNS="80").stdout
    assert re.search(rf"^\s*\d+\s+{project['id']} {project['name'].split()[0]} ", allocations, re.MULTILINE)
    assert re.search(r"\d booster\s.*\n.*\(jupiter\)", allocations)  # the resource's name, wrapped whole
    users = live_cli("users", "list", as_=OPERATOR, COLUMNS="80").stdout
    assert re.search(rf"anna@backhaus-kiel.example\s.*\s{live.info.org_ids['Backhaus Kiel GmbH']} Backhaus", users)
    shown = re.sub(r"\s+", " ", live_cli("proposals", "show", live.info.proposal_ids["bakery"], as_=BAKERY).stdout)
    assert "Backhaus Kiel GmbH" in shown and "booster (jupiter)" in shown
    raw = live_cli.json("proposals", "list", as_=OPERATOR)["items"][0]
    assert isinstance(raw["call_id"], int) and "call" not in raw  # --json stays the API's answer
