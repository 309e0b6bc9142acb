"""Project storage through the JSON API, on SQLite and PostgreSQL: resumable uploads with Content-Range (in
order only, resumed by name, size and sha256), the sha256 verified before a file appears, downloads with Range,
quotas (413, nothing half-visible), names that cannot leave the project's folder, deletes, audit events, and
abandoned uploads expiring."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aifactory.services import uploads
from tests.support.api import Api, assert_problem
from tests.support.storage import chunk, files_path, sha, start, upload, uploads_path

DATA = bytes(range(256)) * 40  # 10,240 bytes


def _names(api: Api, project: int) -> list[str]:
    return [f["name"] for f in api.ok("GET", files_path(project), "anna")["items"]]


def _data_dir(api: Api) -> str:
    return str(api.client.app.state.ctx.storage.data_dir)


def test_an_upload_in_chunks_appears_only_once_complete_and_verified(api: Api) -> None:
    p = api.project_of("bakery")
    r = api.post(uploads_path(p), "anna", json={"name": "sales/2024.csv", "size": len(DATA), "sha256": sha(DATA)})
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == created["url"] == f"/api/v1/projects/{p}/storage/uploads/{created['id']}"
    assert created["offset"] == 0 and created["max_chunk_bytes"] >= 65536 and not created["complete"]

    assert chunk(api, "anna", p, created["id"], DATA, 0, 4095).json()["offset"] == 4096
    gap = chunk(api, "anna", p, created["id"], DATA, 8192, 10239)  # out of order
    assert_problem(gap, 409, "Content-Range", detail="continues at byte 4,096")
    again = chunk(api, "anna", p, created["id"], DATA, 2048, 6143)  # overlaps what is in
    assert_problem(again, 409, detail="were received already")
    head = api.request("HEAD", uploads_path(p, created["id"]), "anna")
    assert head.status_code == 200 and head.headers["upload-offset"] == "4096"
    assert head.headers["upload-length"] == str(len(DATA))
    assert chunk(api, "anna", p, created["id"], DATA, 4096, 10239).json()["complete"] is True
    assert _names(api, p) == []  # every byte in, not yet verified: invisible
    assert api.get(files_path(p, "sales/2024.csv"), "anna").status_code == 404

    r = api.post(uploads_path(p, created["id"]) + "/complete", "anna")
    assert r.status_code == 201, r.text
    stored = r.json()
    assert (stored["name"], stored["size"], stored["sha256"]) == ("sales/2024.csv", len(DATA), sha(DATA))
    assert r.headers["location"] == f"/api/v1/projects/{p}/storage/files/sales/2024.csv"
    listing = api.ok("GET", files_path(p), "anna")
    assert [f["name"] for f in listing["items"]] == ["sales/2024.csv"]
    assert (listing["usage"]["bytes"], listing["usage"]["files"], listing["usage"]["uploads"]) == (len(DATA), 1, 0)
    assert listing["usage"]["max_bytes"] == 10 << 30 and listing["usage"]["max_files"] == 10_000
    assert api.get(uploads_path(p, created["id"]), "anna").status_code == 404  # the upload is over
    on_disk = os.path.join(_data_dir(api), "storage", str(p), "sales", "2024.csv")
    assert Path(on_disk).read_bytes() == DATA
    assert not os.listdir(os.path.join(_data_dir(api), "uploads"))  # no private leftovers


def test_downloads_stream_whole_or_one_range(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "blob.bin", DATA)
    whole = api.get(files_path(p, "blob.bin"), "anna")
    assert whole.status_code == 200 and whole.content == DATA
    assert whole.headers["etag"] == f'"{sha(DATA)}"' and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"] == 'attachment; filename="blob.bin"'
    for asked, (first, last) in {
        "bytes=2-5": (2, 5),
        "bytes=-3": (10237, 10239),
        "bytes=10000-": (10000, 10239),
    }.items():
        r = api.get(files_path(p, "blob.bin"), "anna", headers={"Range": asked})
        assert r.status_code == 206, (asked, r.text)
        assert r.content == DATA[first : last + 1]
        assert r.headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
    bad = api.get(files_path(p, "blob.bin"), "anna", headers={"Range": "bytes=20000-"})
    assert_problem(bad, 416, detail="outside the file")
    assert bad.headers["content-range"] == f"bytes */{len(DATA)}"
    stale = api.get(files_path(p, "blob.bin"), "anna", headers={"Range": "bytes=2-5", "If-Range": '"0000"'})
    assert stale.status_code == 200 and stale.content == DATA  # the file changed since: the whole new one
    fresh = api.get(files_path(p, "blob.bin"), "anna", headers={"Range": "bytes=2-5", "If-Range": f'"{sha(DATA)}"'})
    assert fresh.status_code == 206 and fresh.content == DATA[2:6]


def test_an_interrupted_upload_resumes_where_the_server_stands(api: Api) -> None:
    p = api.project_of("bakery")
    first = start(api, "anna", p, "big.bin", DATA)
    chunk(api, "anna", p, first["id"], DATA, 0, 999)
    again = api.post(uploads_path(p), "anna", json={"name": "big.bin", "size": len(DATA), "sha256": sha(DATA)})
    assert again.status_code == 200, again.text  # the same upload, not a new one
    assert (again.json()["id"], again.json()["offset"]) == (first["id"], 1000)
    other = api.post(uploads_path(p), "lars", json={"name": "big.bin", "size": len(DATA), "sha256": sha(DATA)})
    assert other.status_code == 201 and other.json()["id"] != first["id"]  # another member's is their own
    chunk(api, "anna", p, first["id"], DATA, 1000, len(DATA) - 1)
    assert api.ok("POST", uploads_path(p, first["id"]) + "/complete", "anna", status=201)["sha256"] == sha(DATA)


def test_a_wrong_sha256_discards_the_upload_and_shows_nothing(api: Api) -> None:
    p = api.project_of("bakery")
    created = start(api, "anna", p, "x.bin", DATA, with_sha=False)
    chunk(api, "anna", p, created["id"], DATA, 0, len(DATA) - 1)
    missing = api.post(uploads_path(p, created["id"]) + "/complete", "anna")
    assert_problem(missing, 422, "sha256", detail="required")
    wrong = api.post(uploads_path(p, created["id"]) + "/complete", "anna", json={"sha256": "0" * 64})
    assert_problem(wrong, 422, "sha256", detail=sha(DATA))
    assert api.get(uploads_path(p, created["id"]), "anna").status_code == 404
    assert _names(api, p) == []
    assert not os.listdir(os.path.join(_data_dir(api), "uploads"))


def test_chunks_that_do_not_fit_are_refused_clearly(api: Api) -> None:
    p = api.project_of("bakery")
    created = start(api, "anna", p, "c.bin", DATA)
    url = uploads_path(p, created["id"])
    no_range = api.request("PUT", url, "anna", content=b"abc")
    assert_problem(no_range, 422, "Content-Range")
    short = api.request("PUT", url, "anna", content=b"abc", headers={"Content-Range": f"bytes 0-9/{len(DATA)}"})
    assert_problem(short, 422, "Content-Range", detail="the body holds 3")
    total = api.request("PUT", url, "anna", content=b"abc", headers={"Content-Range": "bytes 0-2/99"})
    assert_problem(total, 422, "Content-Range", detail="not the upload's size")
    limit = api.client.app.state.ctx.storage.chunk_bytes
    huge = api.request("PUT", url, "anna", content=b"x" * (limit + 1), headers={"Content-Range": "bytes 0-1/2"})
    assert_problem(huge, 413)
    assert api.ok("GET", url, "anna")["offset"] == 0


@pytest.mark.parametrize(
    "name",
    ["../escape", "/etc/passwd", "a//b", "a/./b", "a/../../b", "tab\there", "new\nline", "x" * 256, "a\\b", " lead"],
)
def test_names_stay_inside_the_projects_folder(api: Api, name: str) -> None:
    p = api.project_of("bakery")
    r = api.post(uploads_path(p), "anna", json={"name": name, "size": 1})
    assert_problem(r, 422, "name")


def test_paths_in_urls_are_checked_and_symlinks_never_followed(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "ok.txt", b"fine")
    for path in ("..%2F..%2Faifactory.db", "a/..%2F..%2Fx", "%2Fetc%2Fpasswd"):
        r = api.get(files_path(p, path), "anna")
        assert r.status_code in (404, 422), (path, r.text)
    os.symlink("/etc/passwd", os.path.join(_data_dir(api), "storage", str(p), "link"))
    assert api.get(files_path(p, "link"), "anna").status_code == 404  # not listed, and never followed


def test_a_name_cannot_be_both_a_file_and_a_folder(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "a", b"1")
    r = api.post(uploads_path(p), "anna", json={"name": "a/b", "size": 1})
    assert_problem(r, 409, "name", detail="'a' is a file")
    upload(api, "anna", p, "d/e", b"2")
    r = api.post(uploads_path(p), "anna", json={"name": "d", "size": 1})
    assert_problem(r, 409, "name", detail="'d' is a folder")


def test_replacing_a_file_keeps_one_name_and_audits_both_versions(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "model.txt", b"v1")
    second = upload(api, "lars", p, "model.txt", b"version 2")
    assert (second["sha256"], second["created_by"]) == (sha(b"version 2"), api.user_id("lars"))
    assert api.get(files_path(p, "model.txt"), "anna").content == b"version 2"
    events = api.ok("GET", "/audit?action=storage.uploaded", "operator")["items"]
    (replaced,) = [e for e in events if e["before"]]
    assert len(events) == 2 and replaced["before"]["sha256"] == sha(b"v1")
    assert replaced["after"]["sha256"] == sha(b"version 2")


def test_delete_a_file_or_a_whole_folder(api: Api) -> None:
    p = api.project_of("bakery")
    for name in ("keep.txt", "old/a.txt", "old/deeper/b.txt"):
        upload(api, "anna", p, name, name.encode())
    assert_problem(api.delete(files_path(p, "old"), "anna"), 409, detail="recursive=true")
    assert api.delete(files_path(p, "old") + "?recursive=true", "anna").status_code == 204
    assert _names(api, p) == ["keep.txt"]
    assert not os.path.exists(os.path.join(_data_dir(api), "storage", str(p), "old"))
    assert api.delete(files_path(p, "keep.txt"), "anna").status_code == 204
    assert_problem(api.delete(files_path(p, "keep.txt"), "anna"), 404)
    deleted = api.ok("GET", "/audit?action=storage.deleted", "operator")["items"]
    assert sorted(e["before"]["name"] for e in deleted) == ["keep.txt", "old/a.txt", "old/deeper/b.txt"]


def test_quotas_refuse_with_413_and_leave_nothing_visible(api: Api) -> None:
    p = api.project_of("bakery")
    assert_problem(api.request("PUT", f"/projects/{p}/storage/quota", "anna", json={"max_bytes": 1}), 403)
    usage = api.ok("PUT", f"/projects/{p}/storage/quota", "operator", json={"max_bytes": 100, "max_files": 2})
    assert (usage["max_bytes"], usage["max_files"], usage["quota_bytes"]) == (100, 2, 100)
    over = api.post(uploads_path(p), "anna", json={"name": "big", "size": 101})
    body = assert_problem(over, 413, detail="quota")
    assert "'big' needs 101 bytes" in body["detail"] and "0 of 100 bytes in use" in body["detail"]
    first = start(api, "anna", p, "a", b"x" * 60)
    assert_problem(api.post(uploads_path(p), "anna", json={"name": "b", "size": 60}), 413)  # 60 are reserved
    chunk(api, "anna", p, first["id"], b"x" * 60, 0, 59)
    api.ok("PUT", f"/projects/{p}/storage/quota", "operator", json={"max_bytes": 50, "max_files": 2})
    late = api.post(uploads_path(p, first["id"]) + "/complete", "anna")
    assert_problem(late, 413)  # checked again at completion
    assert _names(api, p) == [] and api.ok("GET", uploads_path(p, first["id"]), "anna")["complete"]
    api.ok("PUT", f"/projects/{p}/storage/quota", "operator", json={"max_bytes": None, "max_files": 2})
    api.ok("POST", uploads_path(p, first["id"]) + "/complete", "anna", status=201)  # room again: it completes
    upload(api, "anna", p, "b", b"y")
    assert_problem(api.post(uploads_path(p), "anna", json={"name": "c", "size": 1}), 413, detail="file quota (2 files)")
    assert api.post(uploads_path(p), "anna", json={"name": "b", "size": 1}).status_code == 201  # a replacement
    quota_events = api.ok("GET", "/audit?action=storage.quota_set", "operator")["items"]
    first_set = quota_events[-1]  # newest first
    assert first_set["after"] == {"max_bytes": 100, "max_files": 2} and first_set["entity_type"] == "project"


def test_an_operator_sees_the_listing_but_not_the_files(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "secret.csv", b"a,b\n1,2\n")
    assert api.ok("GET", files_path(p), "operator")["items"][0]["name"] == "secret.csv"
    assert_problem(api.get(files_path(p, "secret.csv"), "operator"), 403)
    assert_problem(api.post(uploads_path(p), "operator", json={"name": "x", "size": 1}), 403)


def test_abandoned_uploads_expire(api: Api) -> None:
    p = api.project_of("bakery")
    created = start(api, "anna", p, "slow.bin", DATA)
    chunk(api, "anna", p, created["id"], DATA, 0, 99)
    area = api.client.app.state.ctx.storage
    api.clock.advance(hours=25)
    assert_problem(api.get(uploads_path(p, created["id"]), "anna"), 404, detail="expired")
    assert uploads.expire(api.uow_factory, api.clock, area) == 1
    assert not area.part(created["id"]).exists()
    assert api.ok("GET", files_path(p), "anna")["usage"]["uploads"] == 0
