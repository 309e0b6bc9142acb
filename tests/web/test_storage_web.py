"""A project's Data page in the portal: the files with size, date and the quota in use; an upload by the same
chunked protocol as the API on the portal's session (CSRF-checked; the sha256 verified; over the quota the
service's 413 message); download with Range; delete behind a CSRF-protected confirmation; registering a stored
CSV as a dataset whose page shows its columns and first rows; and a template's dataset parameter as a picker of
the project's datasets and files."""

from __future__ import annotations

import re
from typing import Any

from tests.support.api import Api
from tests.support.portal import Portal, WebClient
from tests.support.storage import sha
from tests.support.storage import upload as api_upload

CSV = b"date,product,pieces\n2024-01-01,Roggenbrot,41\n2024-01-01,Croissant,17\n2024-01-02,Roggenbrot,<b>39</b>\n"


def _send(web: WebClient, project: int, name: str, data: bytes, step: int = 16) -> Any:
    """What static/upload.js does: create, PUT the chunks with Content-Range, complete with the sha256."""
    headers = {"X-CSRF-Token": web.csrf()}
    base = f"/projects/{project}/data/uploads"
    r = web.client.post(base, json={"name": name, "size": len(data), "sha256": sha(data)}, headers=headers)
    if r.status_code != 201:
        return r
    url = r.json()["url"]
    for at in range(0, len(data), step):
        end = min(at + step, len(data)) - 1
        part = {**headers, "Content-Range": f"bytes {at}-{end}/{len(data)}"}
        r = web.client.put(url, content=data[at : end + 1], headers=part)
        assert r.status_code == 200, r.text
        assert r.json()["offset"] == end + 1
    return web.client.post(url + "/complete", json={"sha256": sha(data)}, headers=headers)


def test_an_upload_from_the_portal_appears_on_the_data_page_and_downloads(portal: Portal) -> None:
    project = portal.api.project_of("bakery")
    web = portal.browser("anna")
    web.get(f"/projects/{project}")
    assert f'href="/projects/{project}/data"' in web.get(f"/projects/{project}").text
    page = web.get(f"/projects/{project}/data").text
    assert "No files yet." in page and f'data-create="/projects/{project}/data/uploads"' in page
    done = _send(web, project, "sales/bakery.csv", CSV)
    assert done.status_code == 201, done.text
    assert done.json() == {"name": "sales/bakery.csv", "size": len(CSV), "sha256": sha(CSV)}
    page = web.get(f"/projects/{project}/data").text
    assert "sales/bakery.csv" in page and f"{len(CSV)} B" in page
    assert portal.api.ok("GET", f"/projects/{project}/storage/files", "anna")["items"][0]["sha256"] == sha(CSV)
    got = web.get(f"/projects/{project}/data/files/sales/bakery.csv")
    assert got.status_code == 200 and got.content == CSV and "attachment" in got.headers["content-disposition"]
    part = web.get(f"/projects/{project}/data/files/sales/bakery.csv", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"date"
    web.client.cookies.set("aif_lang", "de")
    german = web.get(f"/projects/{project}/data").text
    assert "Daten von" in german and "Als Datensatz registrieren" in german and "Datei hochladen" in german


def test_uploads_need_the_csrf_token_a_member_and_the_right_checksum(portal: Portal) -> None:
    project = portal.api.project_of("bakery")
    anna = portal.browser("anna")
    body = {"name": "x.csv", "size": 3, "sha256": sha(b"abc")}
    r = anna.client.post(f"/projects/{project}/data/uploads", json=body)  # no X-CSRF-Token
    assert r.status_code == 403
    assert portal.api.ok("GET", f"/projects/{project}/storage/files", "anna")["usage"]["uploads"] == 0
    headers = {"X-CSRF-Token": anna.csrf()}
    created = anna.client.post(f"/projects/{project}/data/uploads", json=body, headers=headers).json()
    anna.client.put(created["url"], content=b"abd", headers={**headers, "Content-Range": "bytes 0-2/3"})
    bad = anna.client.post(created["url"] + "/complete", json={"sha256": sha(b"abc")}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "sha256" and "discarded" in bad.json()["detail"]
    outsider = portal.browser("claire")  # another organization
    foreign = outsider.client.post(
        f"/projects/{project}/data/uploads", json=body, headers={"X-CSRF-Token": outsider.csrf()}
    )
    assert foreign.status_code == 404
    api_upload(portal.api, "anna", project, "secret.csv", CSV)
    for path in ("", "/files/secret.csv", "/delete?path=secret.csv", "/register?path=secret.csv"):
        assert outsider.get(f"/projects/{project}/data{path}").status_code == 404, path
    gone = outsider.post(f"/projects/{project}/data/delete", {"path": "secret.csv"})
    assert gone.status_code == 404
    assert [f["name"] for f in portal.api.ok("GET", f"/projects/{project}/storage/files", "anna")["items"]] == [
        "secret.csv"
    ]


def test_over_the_quota_the_service_message_comes_back_and_nothing_is_stored(portal: Portal) -> None:
    project = portal.api.project_of("bakery")
    portal.api.ok("PUT", f"/projects/{project}/storage/quota", "operator", json={"max_bytes": 10, "max_files": 5})
    web = portal.browser("anna")
    r = _send(web, project, "big.csv", CSV)
    assert r.status_code == 413 and "quota" in r.json()["detail"]
    page = web.get(f"/projects/{project}/data").text
    assert "No files yet." in page and "of 10 B in use" in page


def test_delete_asks_first_and_needs_the_csrf_token(portal: Portal) -> None:
    project = portal.api.project_of("bakery")
    api_upload(portal.api, "anna", project, "old.csv", CSV)
    web = portal.browser("anna")
    confirm = web.get(f"/projects/{project}/data/delete?path=old.csv").text
    assert "Delete old.csv?" in confirm and 'name="path" value="old.csv"' in confirm
    forged = web.client.post(f"/projects/{project}/data/delete", data={"path": "old.csv"})
    assert forged.status_code == 403
    assert len(portal.api.ok("GET", f"/projects/{project}/storage/files", "anna")["items"]) == 1
    done = web.post(f"/projects/{project}/data/delete", {"path": "old.csv"}, follow=True)
    assert "Deleted old.csv (1 file(s))." in done.text and "No files yet." in done.text
    assert portal.api.ok("GET", f"/projects/{project}/storage/files", "anna")["items"] == []


def _register(web: WebClient, project: int, **values: str) -> Any:
    form = {"path": "sales.csv", "title": "Our sales", "slug": "our-sales", "licence": "", "summary": ""}
    return web.post(f"/projects/{project}/data/register", {**form, **values}, follow=True)


def test_a_stored_csv_registered_as_a_dataset_shows_its_schema_preview(portal: Portal) -> None:
    project = portal.api.project_of("bakery")
    api_upload(portal.api, "anna", project, "sales.csv", CSV)
    web = portal.browser("anna")
    form = web.get(f"/projects/{project}/data/register?path=sales.csv").text
    assert 'value="sales"' in form  # the short name suggested from the file's name
    page = _register(web, project, licence="CC-BY-4.0", summary="Daily pieces sold")
    assert "Registered sales.csv as dataset our-sales." in page.text
    assert re.search(r"/data/datasets/our-sales$", str(page.url))
    assert "CC-BY-4.0" in page.text and "Daily pieces sold" in page.text and sha(CSV) in page.text
    header = re.search(r"<thead>(.*?)</thead>", page.text, re.S)
    assert header and all(c in header.group(1) for c in ("date", "product", "pieces"))
    assert "Roggenbrot" in page.text and "&lt;b&gt;39&lt;/b&gt;" in page.text and "<b>39" not in page.text
    assert "3 rows, 3 columns" in page.text
    data = web.get(f"/projects/{project}/data").text
    assert f'/projects/{project}/data/datasets/our-sales"' in data and "@our-sales" in data
    again = _register(web, project)  # the short name is taken: said on the form, nothing registered
    assert again.status_code == 409 and "our-sales" in again.text and "Please correct" in again.text
    missing = _register(web, project, path="nope.csv", slug="nope")
    assert missing.status_code == 404 and "nope.csv" in missing.text and 'name="title"' in missing.text


def test_a_dataset_parameter_is_a_picker_of_the_projects_datasets_and_files(portal: Portal, api: Api) -> None:
    project = api.project_of("bakery")
    api_upload(api, "anna", project, "sales.csv", CSV)
    web = portal.browser("anna")
    _register(web, project)
    page = web.get(f"/projects/{project}/templates/bakery-forecast").text
    picker = re.search(r'<select id="f-params.sales".*?</select>', page, re.S)
    assert picker is not None  # "format": "dataset": a select, not a text field
    assert '<option value="@our-sales">Our sales (@our-sales)</option>' in picker.group(0)
    assert '<option value="sales.csv">sales.csv</option>' in picker.group(0)
    assert 'data-target="f-params.sales"' in page and "/static/upload.js" in page
    run = web.post(
        f"/projects/{project}/templates/bakery-forecast",
        {"params.sales": "@our-sales", "params.events": "sales.csv", "params.date_col": "date"},
    )
    assert run.status_code == 303, run.text
    job = api.ok("GET", run.headers["location"], "anna")  # /jobs/{id}, the API's path too
    assert job["spec"]["inputs"]["sales"] == {"dataset": "our-sales"}
    assert job["spec"]["inputs"]["events"] == {"storage": "sales.csv"}
    unknown = web.post(f"/projects/{project}/templates/bakery-forecast", {"params.sales": "@no-such-data"})
    assert unknown.status_code in (404, 422) and 'id="e-params.sales"' in unknown.text  # next to the picker


def test_an_interrupted_upload_resumes_where_it_stopped(portal: Portal) -> None:
    project = portal.api.project_of("bakery")
    web = portal.browser("anna")
    headers = {"X-CSRF-Token": web.csrf()}
    body = {"name": "sales.csv", "size": len(CSV), "sha256": sha(CSV)}
    first = web.client.post(f"/projects/{project}/data/uploads", json=body, headers=headers)
    assert first.status_code == 201 and first.json()["offset"] == 0
    url = first.json()["url"]
    web.client.put(url, content=CSV[:10], headers={**headers, "Content-Range": f"bytes 0-9/{len(CSV)}"})
    gap = web.client.put(url, content=CSV[20:30], headers={**headers, "Content-Range": f"bytes 20-29/{len(CSV)}"})
    assert gap.status_code == 409 and gap.json()["field"] == "Content-Range" and "byte 10" in gap.json()["detail"]
    again = web.client.post(f"/projects/{project}/data/uploads", json=body, headers=headers)  # the page reloaded
    assert again.status_code == 200 and again.json()["url"] == url and again.json()["offset"] == 10
    rest = {**headers, "Content-Range": f"bytes 10-{len(CSV) - 1}/{len(CSV)}"}
    assert web.client.put(url, content=CSV[10:], headers=rest).json()["complete"] is True
    assert web.client.post(url + "/complete", json={"sha256": sha(CSV)}, headers=headers).status_code == 201
    assert portal.api.ok("GET", f"/projects/{project}/storage/files", "anna")["items"][0]["size"] == len(CSV)
