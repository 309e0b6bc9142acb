"""A new bakery brings its own data, through the CLI over HTTP: it registers as an SME, gets a playground
project, uploads a synthetic bakery's daily sales (``data put``), registers them as a dataset, runs the bakery
template on that dataset (``--param sales=@slug`` with its column and unit parameters), waits for the job and
fetches the report, which describes that data: its products and its unit, not Kiel's. Also: a local file given
as a data parameter is uploaded first, and every bad parameter is named in the one-line error."""

from __future__ import annotations

import html
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aifactory.demo import DemoInfo
from aifactory.showcase.bakery.synthetic import generate
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.support.cli import BAKERY, OPERATOR, Cli
from tests.support.live import LiveServer

PARAMS = ("date_col=date", "product_col=product", "value_col=pieces", "unit=pieces", "boosting_rounds=60")


@pytest.fixture
def python_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The template runs ``python3 -m aifactory.showcase.bakery``: the interpreter that has aifactory."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.slow
def test_a_new_sme_runs_the_bakery_template_on_its_own_uploaded_dataset(
    live_cli: Cli, live: LiveServer, seeded_url: tuple[str, DemoInfo], tmp_path: Path, python_on_path: None
) -> None:
    cli = live_cli
    cli(
        "register", "--url", live.url, "--org-name", "Backstube Süd", "--kind", "sme", "--country", "DE",
        "--email", "susi@backstube.example", "--name", "Susi Sauerteig",
    )  # fmt: skip
    _verified(seeded_url[0], "susi@backstube.example")
    project = _project(cli)
    sales = tmp_path / "backstube.csv"
    generate(400, seed=3).sales.to_csv(sales, index=False)
    put = cli("data", "put", sales, "--name", "sales/backstube.csv", "--project", project).stdout
    assert "Stored sales/backstube.csv" in put
    cli("data", "register", "sales/backstube.csv", "--slug", "backstube-sales", "--title", "Backstube sales")
    job = cli.json(
        "templates", "run", "bakery-forecast", "--project", project, "--param", "sales=@backstube-sales",
        *(x for p in PARAMS for x in ("--param", p)), "--follow",
    )  # fmt: skip
    assert job["state"] == "completed", job
    assert job["spec"]["inputs"] == {"sales": {"dataset": "backstube-sales"}}
    out = tmp_path / "results"
    cli("jobs", "artifacts", job["id"], "--download", out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["data"]["unit"], metrics["data"]["shipped"]) == ("pieces", False)
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", "", (out / "report.html").read_text())))
    assert "4 product(s): Brötchen, Croissant, Kuchen, Roggenbrot." in text
    assert "pieces" in text and "Kiel" not in text and "EUR" not in text


def _verified(db_url: str, email: str) -> None:
    """The new user opened the link of the verification e-mail (not what this test is about)."""
    engine = make_engine(db_url)
    try:
        with SqlUnitOfWorkFactory(make_session_factory(engine))() as uow:
            user = uow.users.by_email(email)
            assert user is not None
            user.email_verified_at = datetime.now(UTC)
            uow.commit()
    finally:
        engine.dispose()


def _project(cli: Cli) -> int:
    """A playground proposal, accepted at once: the new user's project."""
    (call,) = cli.json("calls", "list", "--open", "--mode", "playground", as_=OPERATOR)["items"]
    (site,) = cli.json("sites", "list", as_=OPERATOR)
    resource = next(r["id"] for r in site["resources"] if r["name"] == "booster")
    draft = cli.json(
        "proposals", "create", "--call", call["id"], "--title", "Our own bakery", "--field", "food",
        "--abstract", "Forecast our daily demand per product from our own sales.",
        "--gpu-hours", "10", "--resource", resource, "--months", "1",
    )  # fmt: skip
    cli("proposals", "submit", draft["id"])
    (project,) = cli.json("projects", "list")["items"]
    return int(project["id"])


def test_a_local_file_is_uploaded_first_and_bad_parameters_are_all_named(live_cli: Cli, tmp_path: Path) -> None:
    cli = live_cli
    local = tmp_path / "mine.csv"
    local.write_text("date,product,pieces\n2024-01-01,Brot,3\n")
    job = cli.json("templates", "run", "bakery-forecast", "--project", "1", "--param", f"sales={local}", as_=BAKERY)
    assert job["spec"]["inputs"] == {"sales": {"storage": "runs/bakery-forecast/mine.csv"}}
    stored = cli.json("data", "ls", "runs/", "--project", "1", as_=BAKERY)["items"]
    assert [f["name"] for f in stored] == ["runs/bakery-forecast/mine.csv"]
    cli("jobs", "cancel", job["id"], as_=BAKERY)
    error = cli.fails(
        "templates", "run", "bakery-forecast", "--project", "1", "--param", "salse=x", "--param", "colour=red",
        "--param", "sales=@no-such-data", as_=BAKERY,
    )  # fmt: skip
    assert "params.salse: unknown field" in error and "params.colour: unknown field" in error


def test_an_output_is_saved_to_storage_and_published_with_one_flag(live_cli: Cli, tmp_path: Path) -> None:
    cli = live_cli
    spec = tmp_path / "make.yaml"
    spec.write_text(
        "name: make\nproject: 1\noutputs: [out.csv]\nscript: |\n  printf 'a,b\\n1,2\\n' > out.csv\n", encoding="utf-8"
    )
    job = cli.json("submit", spec, "--follow", as_=BAKERY)
    assert job["state"] == "completed", job
    saved = cli("jobs", "save", job["id"], "out.csv", "--to", "results/out.csv", as_=BAKERY).stdout
    assert f"Saved out.csv of job {job['id']} as results/out.csv (8 bytes" in saved
    got = tmp_path / "got.csv"
    cli("data", "get", "results/out.csv", "--out", got, "--project", "1", as_=BAKERY)
    assert got.read_bytes() == b"a,b\n1,2\n"
    published = cli.json(
        "catalog", "publish", "--job", job["id"], "--path", "out.csv", "--kind", "dataset", "--slug", "ab-table",
        "--title", "AB", "--save-to", "pub/ab.csv", as_=BAKERY,
    )  # fmt: skip
    assert published["details"]["provenance"]["storage_path"] == "pub/ab.csv"
    assert "error: 404" in cli.fails("jobs", "save", "999", "out.csv", "--to", "x.csv", as_=BAKERY)
