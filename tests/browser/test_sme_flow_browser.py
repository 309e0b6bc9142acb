"""A new SME brings its own data, in Chromium: it signs up and gets its playground project, uploads its daily
sales (a synthetic bakery with known demand) on the project's Data page by the file button, with progress,
registers the file as a dataset and sees its schema preview, opens the bakery template's form, picks the
dataset as sales, uploads an events table from the form (selected at once), sets the column and unit
parameters, runs it, waits on the job page until it completes, and reads the report in the sandboxed frame:
titled with its result, describing these four products in pieces and the events it was given. The Data page
passes axe and fits a phone; a file dropped onto it over the project's quota shows the quota message and
leaves nothing stored."""

from __future__ import annotations

import os
import re
import sys
import uuid
from pathlib import Path

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from aifactory.showcase.bakery.synthetic import generate
from tests.support.browser import axe_violations, no_horizontal_overflow, sandboxed_report, shot, sign_in, sign_up_sme
from tests.support.demo import PEOPLE
from tests.support.live import LiveServer

PRODUCTS = "4 product(s): Brötchen, Croissant, Kuchen, Roggenbrot."


@pytest.fixture
def bakery_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The SME's sales (240 days, four products, weekly pattern, holidays, Poisson noise) and an events table;
    the template's ``python3`` is the interpreter that has aifactory (the job runs on the local executor)."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    sales = generate(240, seed=3).sales
    days = sorted(sales["date"].unique())
    sales_csv, events_csv = tmp_path / "sonne-sales.csv", tmp_path / "sonne-events.csv"
    sales.to_csv(sales_csv, index=False)
    festival = [1 if i % 30 < 3 else 0 for i in range(len(days))]
    pd.DataFrame({"date": days, "festival": festival}).to_csv(events_csv, index=False)
    return sales_csv, events_csv


def _upload_and_register(page: Page, sales_csv: Path) -> None:
    """On the project's page: its Data page, the sales uploaded, registered as the dataset sonne-sales."""
    page.get_by_role("link", name="Data", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Data of"))).to_be_visible()
    expect(page.get_by_text("No files yet.")).to_be_visible()
    page.get_by_label("Upload a file").set_input_files(str(sales_csv))
    files = page.locator("#files")  # the page reloads once the upload is complete
    expect(files).to_contain_text("sonne-sales.csv", timeout=30_000)
    size = sales_csv.stat().st_size
    expect(page.locator('[data-kpi="files"]')).to_have_text("1")
    assert f"{size / 1024:.1f} KiB" in files.inner_text()
    shot(page, "sme-data")
    page.get_by_role("link", name="Register as dataset sonne-sales.csv").click()
    expect(page.get_by_label("Short name")).to_have_value("sonne-sales")
    page.get_by_label("Title").fill("Sonne daily sales")
    page.get_by_label("Licence").fill("proprietary")
    page.get_by_label("Description").fill("Pieces sold per day and product, from our till.")
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/data/datasets/sonne-sales$"))
    preview = page.locator("#preview")
    for column in ("date", "product", "pieces"):
        expect(preview.locator("thead")).to_contain_text(column)
    expect(preview.locator("tbody tr").first).to_contain_text("2023-01-02")
    shot(page, "sme-dataset")


def _run_bakery(page: Page, project_url: str, events_csv: Path) -> None:
    page.goto(project_url)
    page.get_by_role("link", name="Submit a job").click()
    page.get_by_role("link", name=re.compile("^Bakery")).click()
    page.get_by_label("Your sales", exact=True).select_option("@sonne-sales")
    page.get_by_label("Upload a file for Events (optional)").set_input_files(str(events_csv))
    expect(page.get_by_label("Events (optional)", exact=True)).to_have_value("sonne-events.csv", timeout=30_000)
    expect(page.get_by_text("Uploaded sonne-events.csv.")).to_be_visible()
    expect(page.locator('[data-target="f-params.events"] progress')).to_have_attribute("value", "100")
    columns = {"Column with the date": "date", "Column with the product": "product"}
    for label, value in {**columns, "Column with the amount sold": "pieces", "Unit of the amounts": "pieces"}.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Effort (rounds)", exact=True).fill("50")
    shot(page, "sme-template-form")
    page.get_by_role("button", name="Run").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator("#job-state")).to_have_text("completed", timeout=240_000)


def test_a_new_sme_uploads_its_sales_registers_them_runs_the_bakery_template_and_reads_the_report(
    page: Page, live: LiveServer, bakery_files: tuple[Path, Path]
) -> None:
    sales_csv, events_csv = bakery_files
    project_url = sign_up_sme(page, live, uuid.uuid4().hex[:6])
    _upload_and_register(page, sales_csv)
    _run_bakery(page, project_url, events_csv)
    report = sandboxed_report(page)  # <iframe sandbox=""> with no allowance at all
    title = report.locator("h1")
    expect(title).to_contain_text(re.compile(r"^Forecast: [\d.]+ % (less|more) waste"), timeout=30_000)
    body = report.locator("body")
    expect(body).to_contain_text(PRODUCTS)
    expect(body).to_contain_text("Values are quantities in pieces")
    expect(body).to_contain_text(re.compile(r"Events: \S+ \(columns festival\)"))
    assert "Kiel" not in body.inner_text() and "EUR" not in body.inner_text()
    page.locator("iframe.report").scroll_into_view_if_needed()
    shot(page, "sme-report", full_page=False)


def test_the_data_page_passes_axe_and_fits_a_phone(axe_page: Page, live: LiveServer) -> None:
    sign_in(axe_page, live, "anna")
    axe_page.goto(f"{live.url}/projects/1")
    axe_page.get_by_role("link", name="Data", exact=True).click()
    expect(axe_page.get_by_label("Upload a file")).to_be_attached()
    assert axe_violations(axe_page) == []
    axe_page.set_viewport_size({"width": 390, "height": 844})
    axe_page.reload()
    assert no_horizontal_overflow(axe_page)
    shot(axe_page, "data-phone")


def drop(page: Page, path: Path) -> None:
    """The file dropped onto the page's drop zone, as a drag from the desktop delivers it."""
    transfer = page.evaluate_handle(
        "([name, text]) => { const dt = new DataTransfer(); dt.items.add(new File([text], name)); return dt; }",
        [path.name, path.read_text()],
    )
    page.locator("[data-upload-drop]").dispatch_event("drop", {"dataTransfer": transfer})


def test_a_drop_over_the_quota_says_so_and_stores_nothing(page: Page, live: LiveServer, tmp_path: Path) -> None:
    operator = {"Authorization": f"Bearer {live.token(PEOPLE['operator'])}"}
    quota = f"{live.url}/api/v1/projects/1/storage/quota"
    big = tmp_path / "year.csv"
    big.write_text("date,pieces\n" + "2024-01-01,1\n" * 100)
    assert httpx.put(quota, json={"max_bytes": 64, "max_files": None}, headers=operator).status_code == 200
    try:
        sign_in(page, live, "anna")
        page.goto(f"{live.url}/projects/1/data")
        drop(page, big)  # dragged onto the drop zone
        status = page.get_by_role("status").filter(has_text="year.csv")
        expect(status).to_contain_text("The upload of year.csv failed: storing 'year.csv' needs 1,312 bytes")
        expect(status).to_contain_text("over the project's storage quota")
        page.reload()
        expect(page.get_by_text("No files yet.")).to_be_visible()
    finally:
        httpx.put(quota, json={"max_bytes": None, "max_files": None}, headers=operator)
