"""The catalog through the CLI against the live server (real local executor, reconciler thread): run the
built-in hello-gpu template with --follow, publish its out.json as a model, search and show it."""

from __future__ import annotations

import json

from aifactory.client import AifactoryClient
from tests.support.cli import BAKERY, Cli
from tests.support.live import LiveServer


def test_templates_run_follow_publish_and_search(live_cli: Cli, live: LiveServer) -> None:
    listed = live_cli.json("templates", "list", as_=BAKERY)
    assert "hello-gpu" in {i["slug"] for i in listed["items"]}
    result = live_cli(
        "templates",
        "run",
        "hello-gpu",  # no --project: the bakery's only project
        "--param",
        "greeting=42",
        "--param",
        "repeat=2",
        "--follow",
        as_=BAKERY,
    )
    assert result.stdout.splitlines()[:2] == ["42", "42"]  # a string parameter stays a string
    assert "completed" in result.stderr
    with AifactoryClient(live.url, live.token(BAKERY), retries=0) as client:
        job = client.list_jobs()["items"][0]
        (artifact,) = client.list_artifacts(job["id"], checksums=True)
    published = live_cli.json(
        "catalog",
        "publish",
        "--job",
        str(job["id"]),
        "--path",
        "out.json",
        "--slug",
        "hello-model",
        "--title",
        "Hello model",
        "--tag",
        "education",
        as_=BAKERY,
    )
    assert published["details"]["sha256"] == artifact["sha256"]
    assert json.loads(json.dumps(published))["job_id"] == job["id"]
    found = live_cli.json("catalog", "search", "hello", "--kind", "model", "--tag", "education", as_=BAKERY)
    assert [i["slug"] for i in found["items"]] == ["hello-model"]
    shown = live_cli("catalog", "show", "model", "hello-model", as_=BAKERY)
    assert "produced-by" in shown.stdout and artifact["sha256"][:16] in shown.stdout
    err = live_cli.fails("templates", "run", "hello-gpu", "--project", "1", "--param", "repeat=0", as_=BAKERY)
    assert "params.repeat" in err and len(err.strip().splitlines()) == 1


def test_catalog_show_is_a_readable_view_and_json_stays_for_scripts(live_cli: Cli) -> None:
    shown = live_cli("catalog", "show", "dataset", "kiel-bakery-sales", as_=BAKERY, COLUMNS="80").stdout
    item = live_cli.json("catalog", "show", "dataset", "kiel-bakery-sales", as_=BAKERY)
    assert item["details"]["sha256"] and item["kind"] == "dataset"  # --json: the API's answer
    lines = {line.split("  ")[0]: line for line in shown.splitlines() if "  " in line}
    for label in ("Title", "Kind", "Owner", "Tags", "Licence", "Size", "SHA-256"):
        assert label in lines, (label, shown)
    assert f"{item['details']['size']:,} bytes" in lines["Size"] and item["details"]["sha256"] in lines["SHA-256"]
    assert "Backhaus Kiel GmbH" in lines["Owner"] and item["details"]["licence"].split()[0] in lines["Licence"]
    assert '"sha256"' not in shown and "{" not in shown  # no raw JSON
    assert max(len(line.rstrip()) for line in shown.splitlines()) <= 80

    template = live_cli("catalog", "show", "template", "hello-gpu", as_=BAKERY).stdout
    assert "Parameters" in template and "greeting" in template and "the factory (built in)" in template
    assert "Licence" not in template  # not a file: no licence line
    readme = live_cli.json("catalog", "show", "template", "hello-gpu", as_=BAKERY)["body"]
    assert "# Hello, GPU" in readme and "# Hello" not in template and "Hello, GPU" in template  # Markdown, rendered
