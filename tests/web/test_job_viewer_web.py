"""A job's results on its page (real local executor): an HTML report in a sandboxed frame, served under a CSP
that gives it no scripts, no forms and an opaque origin; images inline (an SVG only as an image, under the same
policy); CSV and TSV previews escaped and bounded; everything else, and anything too large, a download only;
and what the job was charged, from the ledger."""

from __future__ import annotations

import re

import pytest

from aifactory.api.downloads import VIEW_CSP
from aifactory.domain.jobs.previews import MAX_IMAGE_BYTES, TABLE_ROWS
from tests.support.api import Api, settle
from tests.support.portal import Portal, WebClient
from tests.support.reports import HOSTILE_REPORT, HOSTILE_SVG, MARKUP_CSV, PNG, artifact_spec

FILES = {
    "report.html": HOSTILE_REPORT.encode(),
    "chart.png": PNG,
    "plot.svg": HOSTILE_SVG.encode(),
    "sales.csv": MARKUP_CSV.encode(),
    "long.tsv": ("day\tunits\n" + "".join(f"{d}\t{d * 3}\n" for d in range(200))).encode(),
    "notes.txt": b"<script>alert(1)</script>",
    "page.htm.txt": b"<html>not a report by its name</html>",
    "sub/inner.html": b"<p>inner report</p>",
}
SIZED = {"huge.png": MAX_IMAGE_BYTES + 1}


@pytest.fixture
def results(portal: Portal) -> tuple[WebClient, int]:
    """anna's browser and a completed job that left the hostile artifacts."""
    spec = artifact_spec(portal.api.project_of("bakery"), FILES, sized=SIZED)
    job_id = portal.api.ok("POST", "/jobs", "anna", status=201, json=spec)["id"]
    assert settle(portal.api, job_id)["state"] == "completed"
    return portal.browser("anna"), job_id


def _iframes(html: str) -> list[str]:
    return re.findall(r"<iframe\b[^>]*>", html)


def test_the_report_is_framed_sandboxed_and_served_under_a_policy_without_scripts(
    results: tuple[WebClient, int],
) -> None:
    web, job_id = results
    page = web.get(f"/jobs/{job_id}")
    frames = _iframes(page.text)
    assert {re.search(r'src="([^"]+)"', f).group(1) for f in frames} == {
        f"/jobs/{job_id}/view/report.html",
        f"/jobs/{job_id}/view/sub/inner.html",
    }
    for frame in frames:  # no allow-scripts, no allow-same-origin: sandboxed with every restriction
        assert ' sandbox=""' in frame and "allow-" not in frame and "title=" in frame
    csp = page.headers["content-security-policy"]
    assert "frame-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert page.headers["x-frame-options"] == "DENY"  # the portal itself is framed by nobody

    last_poll = web.get(f"/jobs/{job_id}/log?offset=0").text  # the page's last poll brings the results along
    assert '<div id="results" hx-swap-oob="true">' in last_poll and _iframes(last_poll) == frames

    r = web.get(f"/jobs/{job_id}/view/report.html")
    assert r.status_code == 200 and r.content == HOSTILE_REPORT.encode()  # served as it is, made inert by headers
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"] == VIEW_CSP
    directives = [d.strip() for d in VIEW_CSP.split(";")]
    assert directives[0] == "sandbox" and "default-src 'none'" in directives
    assert "form-action 'none'" in directives and "base-uri 'none'" in directives
    assert not any("script" in d or "allow-" in d for d in directives)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in directives
    assert r.headers["content-disposition"].startswith("inline")
    assert r.headers["cross-origin-resource-policy"] == "same-origin"


def test_images_show_inline_and_an_svg_only_as_an_image_under_the_same_policy(
    results: tuple[WebClient, int],
) -> None:
    web, job_id = results
    page = web.get(f"/jobs/{job_id}").text
    images = re.findall(r'<img class="result-image" src="([^"]+)" alt="([^"]+)"', page)
    assert images == [
        (f"/jobs/{job_id}/view/chart.png", "Image chart.png"),
        (f"/jobs/{job_id}/view/plot.svg", "Image plot.svg"),
    ]
    png = web.get(f"/jobs/{job_id}/view/chart.png")
    assert png.content == PNG and png.headers["content-type"] == "image/png"
    svg = web.get(f"/jobs/{job_id}/view/plot.svg")
    assert svg.headers["content-type"] == "image/svg+xml"  # opened on its own, its script is off (sandbox)
    for r in (png, svg):
        assert r.headers["content-security-policy"] == VIEW_CSP and r.headers["x-content-type-options"] == "nosniff"
    web.client.cookies.set("aif_lang", "de")
    german = web.get(f"/jobs/{job_id}").text
    assert ">Ergebnisse<" in german and 'alt="Bild chart.png"' in german and "Bericht report.html" in german


def test_csv_and_tsv_previews_are_escaped_and_bounded(results: tuple[WebClient, int]) -> None:
    web, job_id = results
    page = web.get(f"/jobs/{job_id}").text
    assert "<script>alert(1)</script>" not in page and "<b>bold</b>" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
    assert "<td>a &#34;quoted&#34;, &lt;b&gt;bold&lt;/b&gt; cell</td>" in page  # CSV quoting understood
    assert '<th scope="col">product</th><th scope="col">units</th><th scope="col">note</th>' in page
    tsv = page[page.index("Table long.tsv") :]
    tsv = tsv[: tsv.index("</table>")]
    assert tsv.count("<tr>") == TABLE_ROWS + 1 and "<td>19</td><td>57</td>" in tsv and "<td>20</td>" not in tsv
    assert f"Only the first {TABLE_ROWS} rows and 2 columns are shown" in page


def test_everything_else_and_anything_too_large_is_a_download_only(results: tuple[WebClient, int]) -> None:
    web, job_id = results
    page = web.get(f"/jobs/{job_id}").text
    for path in ("notes.txt", "page.htm.txt", "huge.png"):
        assert f'href="/jobs/{job_id}/artifacts/{path}" download' in page
        assert f"/jobs/{job_id}/view/{path}" not in page
        assert web.get(f"/jobs/{job_id}/view/{path}").status_code == 404
        download = web.get(f"/jobs/{job_id}/artifacts/{path}")
        assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment")
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"].startswith("sandbox")
    assert len(web.get(f"/jobs/{job_id}/artifacts/huge.png").content) == MAX_IMAGE_BYTES + 1


def test_the_viewer_serves_only_the_jobs_artifacts_to_its_project(
    portal: Portal, results: tuple[WebClient, int]
) -> None:
    _, job_id = results
    daan = portal.browser("daan")
    for path in ("report.html", "chart.png"):
        assert daan.get(f"/jobs/{job_id}/view/{path}").status_code == 404
    anonymous = portal.browser()
    r = anonymous.get(f"/jobs/{job_id}/view/report.html", follow_redirects=False)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]
    anna = portal.browser("anna")
    for path in ("../report.html", "missing.html", "/etc/passwd", "sub"):
        assert anna.get(f"/jobs/{job_id}/view/{path}").status_code == 404


def test_a_report_swapped_for_a_symlink_is_not_served(portal: Portal) -> None:
    spec = artifact_spec(portal.api.project_of("bakery"), {"ok.html": b"<p>ok</p>"}, name="links")
    spec["command"] = ["bash", "-c", "echo '<p>ok</p>' > ok.html; ln -s /etc/passwd leak.html; ln -s ok.html alias.png"]
    job_id = portal.api.ok("POST", "/jobs", "anna", status=201, json=spec)["id"]
    assert settle(portal.api, job_id)["state"] == "completed"
    web = portal.browser("anna")
    assert web.get(f"/jobs/{job_id}/view/ok.html").text == "<p>ok</p>\n"
    for path in ("leak.html", "alias.png"):
        assert web.get(f"/jobs/{job_id}/view/{path}").status_code == 404


def _charge_of(api: Api, job_id: int) -> tuple[int, int]:
    with api.uow_factory(write=False) as uow:
        entries = uow.ledger.for_job(job_id)
        return (
            sum(e.amount for e in entries if e.kind == "reserve"),
            sum(e.amount for e in entries if e.kind == "charge"),
        )


def test_the_job_page_shows_the_reservation_then_the_charge_from_the_ledger(portal: Portal) -> None:
    api = portal.api
    spec = artifact_spec(api.project_of("bakery"), {"out.txt": b"x"}, name="charged")
    spec["command"] = ["bash", "-c", "sleep 1.5; echo done"]
    job_id = api.ok("POST", "/jobs", "anna", status=201, json=spec)["id"]
    web = portal.browser("anna")
    running = web.get(f"/jobs/{job_id}").text
    reserved, _ = _charge_of(api, job_id)
    assert reserved == 300  # one GPU for 5 minutes at the demo's GPU weight 1
    assert f'data-reserved="{reserved}">5 GPU-minutes<' in running and "Charged" not in running
    assert f'hx-get="/jobs/{job_id}/charge"' in running  # polled until the job is settled
    assert 'id="results"' not in web.get(f"/jobs/{job_id}/log?offset=0").text  # only the last poll lists them
    assert "Billing GPU-hours" in running and "booster" in running
    assert settle(api, job_id)["state"] == "completed"
    _, charged = _charge_of(api, job_id)
    assert 2 <= charged < 60
    fragment = web.get(f"/jobs/{job_id}/charge").text
    assert f'data-charge="{charged}">{charged} GPU-seconds<' in fragment
    assert f"({charged / 3600:.4f} GPU-hours)" in fragment and "hx-get" not in fragment
    page = web.get(f"/jobs/{job_id}").text
    assert f'data-charge="{charged}"' in page and "5 GPU-minutes" in page  # the reservation, released
    web.client.cookies.set("aif_lang", "de")
    german = web.get(f"/jobs/{job_id}").text
    assert f"{charged} GPU-Sekunden" in german and "Berechnet" in german and "Abrechnungs-GPU-Stunden" in german
