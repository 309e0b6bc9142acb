"""Project and job pages on the real local executor: burn-down, jobs table and its polling fragment, submit
from a spec and from a template form, the log followed by offset, cancel, artifacts; isolation; bad input."""

from __future__ import annotations

import re
import sys
import time
from xml.etree import ElementTree

from aifactory.services import jobs
from aifactory.web.charts_units import amount_text
from aifactory.web.i18n import Translator
from tests.support.portal import Portal, WebClient

PY = sys.executable
CODE = "import pathlib; print('epoch 1'); print('epoch 2'); pathlib.Path('metrics.json').write_text('{}')"
SPEC = f"""name: web-train
command: ["{PY}", "-c", "{CODE}"]
resources: {{gpus_per_node: 1, time: 5}}
outputs: ["metrics.json"]
"""


def settle(portal: Portal, job_id: int, timeout: float = 30) -> str:
    gw = portal.api.client.app.state.ctx.gateway
    deadline = time.monotonic() + timeout
    while True:
        jobs.reconcile(portal.api.uow_factory, portal.api.clock, gw)
        with portal.api.uow_factory(write=False) as uow:
            job = uow.jobs.get(job_id)
            if job.terminal or time.monotonic() > deadline:
                return job.state.value
        time.sleep(0.1)


def english_amount(hours: float) -> str:
    return amount_text(hours, Translator("en").gettext, "en")


def submit(web: WebClient, project: int, spec: str = SPEC) -> int:
    r = web.post(f"/projects/{project}/submit", {"spec": spec})
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_project_page_shows_members_allocation_figures_and_a_burn_down_chart(portal: Portal) -> None:
    project = portal.api.project_of("bakery")
    page = portal.browser("anna").get(f"/projects/{project}")
    assert page.status_code == 200
    assert "Anna Petersen" in page.text and "Lars Jensen" in page.text
    svg = re.search(r"<svg.*?</svg>", page.text, re.S).group(0)
    root = ElementTree.fromstring(svg)
    assert root.get("role") == "img"
    assert {p.get("data-series") for p in root.iter() if p.get("data-series")} >= {"granted", "used"}
    granted = re.search(r'data-kpi="granted">([^<]+)<', page.text).group(1)
    with portal.api.uow_factory(write=False) as uow:
        alloc = uow.projects.get(project).allocations[0]
        assert granted == english_amount(alloc.granted_seconds / 3600) == "500 GPU-hours"


def test_a_job_submitted_from_a_spec_runs_its_log_is_followed_and_usage_is_charged(portal: Portal) -> None:
    web = portal.browser("anna")
    project = portal.api.project_of("bakery")
    job_id = submit(web, project)
    assert settle(portal, job_id) == "completed"
    first = web.get(f"/jobs/{job_id}/log?offset=0")
    assert first.status_code == 200 and "epoch 1\nepoch 2" in first.text
    end = int(re.search(r"offset=(\d+)", first.text).group(1)) if "offset=" in first.text else None
    assert end is None and "the log is complete" in first.text  # nothing more to poll for
    tail = web.get(f"/jobs/{job_id}/log?offset=8")  # "epoch 1\n" is 8 bytes
    assert "epoch 2" in tail.text and "epoch 1" not in tail.text
    page = web.get(f"/jobs/{job_id}")
    assert "metrics.json" in page.text and "completed" in page.text
    download = web.get(f"/jobs/{job_id}/artifacts/metrics.json")
    assert download.status_code == 200 and download.content == b"{}"
    assert download.headers["content-disposition"].startswith("attachment")
    rows = web.get(f"/projects/{project}/jobs")
    assert f'data-job="{job_id}"' in rows.text and 'hx-trigger="every 15s"' in rows.text  # nothing open: slow
    used = re.search(r'data-kpi="used">([^<]+)<', web.get(f"/projects/{project}").text).group(1)
    with portal.api.uow_factory(write=False) as uow:
        job = uow.jobs.get(job_id)
        alloc = uow.allocations.get(job.allocation_id)
        assert job.settled_at is not None and alloc.charged_seconds > 0
        assert used == english_amount(alloc.charged_seconds / 3600)  # the charge shows on the project page
        assert "GPU-second" in used or "GPU-minute" in used  # a short job's charge in a unit that suits it


def test_the_job_page_keeps_following_until_the_job_end_is_stored(portal: Portal) -> None:
    """The backend may report the log complete before the reconciler has stored the job's end: the page must
    keep polling (else its state would stay 'submitted' for good)."""
    web = portal.browser("anna")
    job_id = submit(web, portal.api.project_of("bakery"))
    gw = portal.api.client.app.state.ctx.gateway
    with portal.api.uow_factory(write=False) as uow:
        backend_id = uow.jobs.get(job_id).backend_id
    deadline = time.monotonic() + 30
    while not gw.backend.logs(backend_id, str(gw.job_dir(job_id)), "stdout").complete:
        assert time.monotonic() < deadline, "the job did not end"
        time.sleep(0.1)
    page = web.get(f"/jobs/{job_id}")  # nothing reconciled yet: the database still says the job is open
    assert "Following the log" in page.text and f'hx-get="/jobs/{job_id}/log' in page.text
    assert settle(portal, job_id) == "completed"
    after = web.get(f"/jobs/{job_id}")
    assert "the log is complete" in after.text and "Following the log" not in after.text


def test_a_running_job_polls_fast_and_can_be_cancelled(portal: Portal) -> None:
    web = portal.browser("anna")
    project = portal.api.project_of("bakery")
    job_id = submit(
        web,
        project,
        f'name: sleeper\ncommand: ["{PY}", "-c", "import time; time.sleep(60)"]\n'
        "resources: {gpus_per_node: 1, time: 5}\n",
    )
    assert 'hx-trigger="every 2s"' in web.get(f"/projects/{project}/jobs").text
    page = web.get(f"/jobs/{job_id}")
    assert "Cancel job" in page.text and "Following the log" in page.text
    r = web.post(f"/jobs/{job_id}/cancel")
    assert r.status_code == 303
    assert "cancelled" in web.get(f"/jobs/{job_id}").text
    assert settle(portal, job_id) == "cancelled"


def test_a_template_form_validates_its_parameters_and_submits_an_ordinary_job(portal: Portal) -> None:
    web = portal.browser("anna")
    project = portal.api.project_of("bakery")
    form = web.get(f"/projects/{project}/templates/hello-gpu")
    assert form.status_code == 200 and 'name="params.' in form.text
    before = portal.api.counts()["jobs"]
    bad = web.post(f"/projects/{project}/templates/bakery-forecast", {"params.horizon_days": "soon"})
    assert bad.status_code == 422 and 'id="e-params.horizon_days"' in bad.text and "whole number" in bad.text
    out_of_range = web.post(f"/projects/{project}/templates/bakery-forecast", {"params.horizon_days": "99"})
    assert out_of_range.status_code == 422 and 'id="e-params.horizon_days"' in out_of_range.text
    assert portal.api.counts()["jobs"] == before  # nothing written
    r = web.post(f"/projects/{project}/templates/hello-gpu", {})
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    assert portal.api.counts()["jobs"] == before + 1


def test_spec_errors_are_shown_and_nothing_is_written(portal: Portal) -> None:
    web = portal.browser("anna")
    project = portal.api.project_of("bakery")
    before = portal.api.counts()["jobs"]
    for spec, says in (
        ("name: [unclosed", "not valid YAML"),
        ("- a list", "a mapping"),
        ("name: x\ncommand: [true]\nresources: {gpus_per_node: 99}", "gpus_per_node"),
        ("name: x\ncommand: [true]\ncolour: blue", "colour"),
        ("name: '<script>alert(1)</script>'\ncommand: [true]\nproject: 99", "another project"),
    ):
        r = web.post(f"/projects/{project}/submit", {"spec": spec})
        assert r.status_code in (400, 409, 422), (spec, r.status_code)
        assert says in r.text, (spec, r.text[-2000:])
        assert "<script>alert(1)" not in r.text
    assert portal.api.counts()["jobs"] == before


def test_other_organizations_cannot_open_the_project_its_jobs_or_artifacts(portal: Portal) -> None:
    anna = portal.browser("anna")
    project = portal.api.project_of("bakery")
    job_id = submit(anna, project)
    settle(portal, job_id)
    daan = portal.browser("daan")
    for path in (
        f"/projects/{project}",
        f"/projects/{project}/jobs",
        f"/projects/{project}/submit",
        f"/jobs/{job_id}",
        f"/jobs/{job_id}/log",
        f"/jobs/{job_id}/artifacts/metrics.json",
    ):
        r = daan.get(path)
        assert r.status_code == 404, path
        assert "epoch" not in r.text and "Backhaus" not in r.text
    r = daan.post(f"/jobs/{job_id}/cancel")
    assert r.status_code == 404
    assert daan.post(f"/projects/{project}/submit", {"spec": SPEC}).status_code == 404
    assert portal.browser().get(f"/projects/{project}", follow_redirects=False).status_code == 303  # sign in first


def test_markup_in_a_job_name_is_refused_and_markup_in_its_log_is_shown_as_text(portal: Portal) -> None:
    web = portal.browser("anna")
    project = portal.api.project_of("bakery")
    refused = web.post(f"/projects/{project}/submit", {"spec": "name: '<script>alert(1)</script>'\ncommand: [true]"})
    assert refused.status_code == 422 and "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
    assert "<script>alert(1)" not in refused.text
    job_id = submit(
        web,
        project,
        f'name: markup\ncommand: ["{PY}", "-c", "print(\'<img src=x onerror=alert(2)>\')"]\n'
        "resources: {gpus_per_node: 1, time: 5}\n",
    )
    settle(portal, job_id)
    for path in (f"/projects/{project}", f"/jobs/{job_id}", f"/jobs/{job_id}/log"):
        assert "<img src=x" not in web.get(path).text, path
    assert "&lt;img src=x onerror=alert(2)&gt;" in web.get(f"/jobs/{job_id}/log").text
    assert "&lt;img src=x onerror=alert(2)&gt;" in web.get(f"/jobs/{job_id}").text
