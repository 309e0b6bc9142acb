"""A new user's road: find the bakery template in the catalog, run it on the embedded default (the real local
executor), follow its progress in the log, and open the report — with the parameters reaching the job."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.api import Api, settle

pytestmark = pytest.mark.slow


@pytest.fixture
def venv_python_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The template runs ``python3 -m aifactory.showcase.bakery``: the interpreter that has aifactory."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def test_bakery_template_runs_and_reports(api: Api, venv_python_on_path) -> None:
    found = api.ok("GET", "/catalog?q=bakery&kind=template", "anna")["items"]
    bakery = next(i for i in found if i["slug"] == "bakery-forecast")
    assert "food" in bakery["tags"] and bakery["visibility"] == "public"
    created = api.ok(
        "POST",
        "/templates/bakery-forecast/run",
        "anna",
        status=201,
        json={"project": 1, "params": {"holdout_days": 28, "waste_cost": 0.3}},
    )
    assert created["spec"]["env"]["AIF_PARAM_holdout_days"] == "28"
    job = settle(api, created["id"], timeout=300)
    log = api.get(f"/jobs/{job['id']}/logs", "anna").text
    assert job["state"] == "completed", (
        job,
        log[-2000:],
        api.get(f"/jobs/{job['id']}/logs?stream=stderr", "anna").text,
    )
    assert "fold" in log  # progress while it runs
    listed = {a["path"] for a in api.ok("GET", f"/jobs/{job['id']}/artifacts", "anna")}
    assert {"report.html", "report.png", "metrics.json", "forecast.csv"} <= listed
    metrics = json.loads(api.get(f"/jobs/{job['id']}/artifacts/metrics.json", "anna").content)
    assert (metrics["parameters"]["waste_cost"], metrics["parameters"]["holdout_days"]) == (0.3, 28)  # reached the job
    assert metrics["critical_ratio"] == pytest.approx(0.6 / (0.6 + 0.3))
    html = api.get(f"/jobs/{job['id']}/artifacts/report.html", "anna").text
    assert "data:image/png;base64," in html and "waste" in html.lower()
    data = api.ok("GET", "/catalog/dataset/kiel-bakery-sales", "claire")  # public: every signed-in user
    assert len(data["details"]["sha256"]) == 64 and data["details"]["size"] == 353811
    assert ("used-in", job["id"]) in {(link["relation"], link["job_id"]) for link in data["links"]}
    story = api.ok("GET", "/catalog/story/bakery-bakes-less-waste", "claire")
    assert story["details"]["metrics"]["waste_reduction_pct"] > 0 and "matched service" in story["body"]
