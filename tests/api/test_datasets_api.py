"""Stored files and folders registered as catalog datasets, through the JSON API on SQLite and PostgreSQL:
format, size, sha256 (a folder's manifest hash), the schema preview of CSV and Parquet tables, provenance,
organization-only by default, and content that no later delete or replacement of the stored file changes."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from aifactory.services.datasets import content_of
from tests.support.api import Api, assert_problem
from tests.support.storage import files_path, sha, upload

SALES = b"date,product,sold,price,open\n" + b"".join(
    f"2024-01-{d:02d},{p},{d * 3 + i},{1.5 + i},{'true' if d % 7 else 'false'}\n".encode()
    for d in range(1, 29)
    for i, p in enumerate(("Brot", "Kuchen"))
)


def _register(api: Api, who: str, project: int, path: str, slug: str, **extra: object) -> dict[str, object]:
    body = {"path": path, "slug": slug, "title": slug.title(), **extra}
    r = api.post(f"/projects/{project}/storage/datasets", who, json=body)
    assert r.status_code == 201, r.text
    out: dict[str, object] = r.json()
    return out


def _content(api: Api, slug: str) -> Path:
    with api.uow_factory(write=False) as uow:
        item = next(i for i in uow.catalog.with_slug("dataset", slug))  # type: ignore[arg-type]
        found = content_of(item)
    assert found is not None
    return found.path(api.client.app.state.ctx.storage)


def test_a_csv_becomes_a_dataset_with_its_schema_and_provenance(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "sales/kiel.csv", SALES)
    item = _register(api, "anna", p, "sales/kiel.csv", "kiel-sales", licence="CC-BY-4.0", tags=["food"])
    details = item["details"]
    assert isinstance(details, dict)
    assert (item["kind"], item["visibility"], item["approval"]) == ("dataset", "organization", "approved")
    assert (details["format"], details["size"], details["sha256"]) == ("csv", len(SALES), sha(SALES))
    assert details["licence"] == "CC-BY-4.0" and details["files"] == 1
    preview = details["preview"]
    assert [(c["name"], c["type"]) for c in preview["columns"]] == [
        ("date", "date"),
        ("product", "string"),
        ("sold", "integer"),
        ("price", "number"),
        ("open", "boolean"),
    ]
    assert preview["rows"][0] == ["2024-01-01", "Brot", 3, 1.5, "true"] and len(preview["rows"]) == 10
    assert preview["row_count"] == 56
    prov = details["provenance"]
    assert (prov["project_id"], prov["storage_path"], prov["source"]) == (p, "sales/kiel.csv", "project-storage")
    assert prov["uploaded_by"] == [{"id": api.user_id("anna"), "name": prov["uploaded_by"][0]["name"]}]
    assert prov["registered_by"]["id"] == api.user_id("anna")

    shown = api.ok("GET", "/catalog/dataset/kiel-sales", "anna")
    assert shown["details"]["preview"] == preview  # show carries the preview
    listed = api.ok("GET", "/catalog?kind=dataset", "anna")["items"]
    assert "kiel-sales" in [i["slug"] for i in listed]
    assert_problem(api.get("/catalog/dataset/kiel-sales", "daan"), 404)  # organization-only
    assert "kiel-sales" not in [i["slug"] for i in api.ok("GET", "/catalog?kind=dataset", "daan")["items"]]
    assert _content(api, "kiel-sales").read_bytes() == SALES


def test_the_dataset_keeps_its_content_when_the_stored_file_is_replaced_or_deleted(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "data.csv", SALES)
    _register(api, "anna", p, "data.csv", "frozen")
    upload(api, "anna", p, "data.csv", b"a,b\n1,2\n")  # replaced
    assert _content(api, "frozen").read_bytes() == SALES
    assert api.delete(files_path(p, "data.csv"), "anna").status_code == 204
    assert _content(api, "frozen").read_bytes() == SALES
    assert (
        hashlib.sha256(_content(api, "frozen").read_bytes()).hexdigest()
        == api.ok("GET", "/catalog/dataset/frozen", "anna")["details"]["sha256"]
    )


def test_a_folder_is_registered_with_its_manifest_hash(api: Api) -> None:
    p = api.project_of("bakery")
    files = {"shop/b.csv": SALES, "shop/a.csv": b"x,y\n1,2\n3,4\n", "shop/notes/readme.txt": b"hello\n"}
    for name, data in files.items():
        upload(api, "anna", p, name, data)
    upload(api, "anna", p, "shopping.txt", b"not in the folder")
    item = _register(api, "anna", p, "shop/", "shop-data")
    details = item["details"]
    assert isinstance(details, dict)
    lines = "".join(f"{sha(files[f'shop/{rel}'])}  {rel}\n" for rel in sorted(["a.csv", "b.csv", "notes/readme.txt"]))
    assert details["sha256"] == hashlib.sha256(lines.encode()).hexdigest()  # what sha256sum | sha256sum gives
    assert (details["files"], details["size"], details["format"]) == (3, sum(map(len, files.values())), "other")
    assert [m["path"] for m in details["manifest"]] == ["a.csv", "b.csv", "notes/readme.txt"]
    assert details["preview"]["file"] == "a.csv" and details["preview"]["row_count"] == 2
    root = _content(api, "shop-data")
    assert (root / "notes" / "readme.txt").read_bytes() == b"hello\n" and not (root.parent / "shopping.txt").exists()


def test_parquet_json_and_binary_formats(api: Api) -> None:
    p = api.project_of("bakery")
    table = pa.table({"day": pa.array([1, 2, 3], pa.int64()), "item": ["Brot", "Brötchen", None]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    upload(api, "anna", p, "t.parquet", buffer.getvalue())
    upload(api, "anna", p, "t.json", b'[{"a": 1}]')
    upload(api, "anna", p, "t.bin", bytes(range(256)))
    parquet = _register(api, "anna", p, "t.parquet", "t-parquet")["details"]
    assert isinstance(parquet, dict) and parquet["format"] == "parquet"
    assert [(c["name"], c["type"]) for c in parquet["preview"]["columns"]] == [("day", "int64"), ("item", "string")]
    assert parquet["preview"]["rows"] == [[1, "Brot"], [2, "Brötchen"], [3, None]]
    assert parquet["preview"]["row_count"] == 3
    as_json = _register(api, "anna", p, "t.json", "t-json")["details"]
    assert isinstance(as_json, dict) and (as_json["format"], as_json["preview"]) == ("json", None)
    binary = _register(api, "anna", p, "t.bin", "t-bin")["details"]
    assert isinstance(binary, dict) and binary["format"] == "other"


def test_a_public_dataset_waits_for_an_operator_and_bad_requests_change_nothing(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "pub.csv", SALES)
    item = _register(api, "anna", p, "pub.csv", "pub-sales", visibility="public")
    assert item["approval"] == "pending"
    assert_problem(api.get("/catalog/dataset/pub-sales", "daan"), 404)
    before = api.counts()
    missing = api.post(f"/projects/{p}/storage/datasets", "anna", json={"path": "nope.csv", "slug": "x", "title": "X"})
    assert_problem(missing, 404, detail="nope.csv")
    taken = api.post(
        f"/projects/{p}/storage/datasets", "anna", json={"path": "pub.csv", "slug": "pub-sales", "title": "X"}
    )
    assert_problem(taken, 409, "slug")
    assert api.counts() == before
    datasets = Path(api.client.app.state.ctx.storage.datasets)
    assert len(list(datasets.iterdir())) == 1  # the refused registrations left no content behind
