"""``aifactory data`` against the live server over TCP: put (in chunks; an interrupted upload resumes), ls with
the usage, get (a partial download resumes; a wrong partial file is caught by the sha256), rm, register a CSV
as a dataset and see its preview in ``catalog show``, and an operator's quota refusing an upload."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.client import AifactoryClient
from aifactory.config import Settings
from aifactory.demo import DemoInfo
from tests.support.cli import BAKERY, OPERATOR, Cli
from tests.support.live import LiveServer, live_server

CHUNK = 64 << 10  # the smallest chunk limit a site may set: the test files take several
SALES = b"date,product,sold\n" + b"".join(f"2024-02-{d:02d},Brot,{d * 7}\n".encode() for d in range(1, 29))


@pytest.fixture
def small_chunks(seeded_url: tuple[str, DemoInfo], tmp_path: Path) -> Iterator[LiveServer]:
    db_url, info = seeded_url
    settings = Settings(
        database_url=db_url, data_dir=tmp_path / "data", reconcile_seconds=0.2, storage_chunk_bytes=CHUNK
    )
    with live_server(settings, info) as server:
        yield server


@pytest.fixture
def data_cli(small_chunks: LiveServer, tmp_path: Path) -> Cli:
    return Cli(tmp_path / "config", small_chunks)


def _client(server: LiveServer, who: str = BAKERY) -> AifactoryClient:
    return AifactoryClient(server.url, server.token(who), retries=0)


def test_put_ls_get_rm_round_trip(data_cli: Cli, small_chunks: LiveServer, tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(3 * CHUNK + 123))
    digest = hashlib.sha256(blob.read_bytes()).hexdigest()
    put = data_cli("data", "put", blob, "--name", "raw/blob.bin", as_=BAKERY)
    assert "Stored raw/blob.bin" in put.stdout and digest in put.stdout
    listed = data_cli("data", "ls", as_=BAKERY).stdout
    assert "raw/blob.bin" in listed and f"{blob.stat().st_size:,}" in listed and "of 10.0 GiB" in listed
    as_json = data_cli.json("data", "ls", "raw/", as_=BAKERY)
    assert [(f["name"], f["sha256"]) for f in as_json["items"]] == [("raw/blob.bin", digest)]

    out = tmp_path / "copy.bin"
    data_cli("data", "get", "raw/blob.bin", "--out", out, as_=BAKERY)
    assert out.read_bytes() == blob.read_bytes() and not Path(f"{out}.part").exists()

    data_cli("data", "rm", "raw/blob.bin", as_=BAKERY)
    assert data_cli.json("data", "ls", as_=BAKERY)["items"] == []
    err = data_cli.fails("data", "rm", "raw/blob.bin", "--project", "1", as_=BAKERY)
    assert "no file 'raw/blob.bin'" in err


def test_an_interrupted_upload_and_download_resume(data_cli: Cli, small_chunks: LiveServer, tmp_path: Path) -> None:
    blob = tmp_path / "big.bin"
    data = os.urandom(4 * CHUNK)
    blob.write_bytes(data)
    with _client(small_chunks) as client:
        project = client.list_projects()["items"][0]["id"]
        upload = client.create_upload(project, name="big.bin", size=len(data), sha256=hashlib.sha256(data).hexdigest())
        client.put_chunk(project, upload["id"], data[:CHUNK], 0, len(data))  # then the line went down
    resumed = data_cli("data", "put", blob, as_=BAKERY)
    assert f"resuming the upload of big.bin at byte {CHUNK:,}" in resumed.stderr
    with _client(small_chunks) as client:
        stored = client.stored_file(project, "big.bin")
        assert client.list_storage(project)["usage"]["uploads"] == 0  # the same upload went on and completed
    assert stored is not None and stored["sha256"] == hashlib.sha256(data).hexdigest()

    out = tmp_path / "back.bin"
    Path(f"{out}.part").write_bytes(data[: CHUNK + 10])  # a download cut short
    got = data_cli("data", "get", "big.bin", "--out", out, as_=BAKERY)
    assert f"resuming {out} at byte {CHUNK + 10:,}" in got.stderr
    assert out.read_bytes() == data

    Path(f"{out}.part").write_bytes(b"x" * 100)  # a partial file that is not this file's beginning
    failed = data_cli("data", "get", "big.bin", "--out", out, "--project", project, as_=BAKERY, code=1)
    last = failed.stderr.strip().splitlines()[-1]  # after the note that it resumes
    assert last.startswith("error: big.bin: downloaded sha256") and "Traceback" not in failed.stderr
    assert not Path(f"{out}.part").exists() and out.read_bytes() == data  # the good copy stays


def test_register_a_csv_and_see_its_preview(data_cli: Cli, tmp_path: Path) -> None:
    sales = tmp_path / "sales.csv"
    sales.write_bytes(SALES)
    data_cli("data", "put", sales, as_=BAKERY)
    registered = data_cli(
        "data",
        "register",
        "sales.csv",
        "--slug",
        "feb-sales",
        "--title",
        "February sales",
        "--licence",
        "CC0-1.0",
        as_=BAKERY,
    )
    assert "Registered dataset feb-sales: csv" in registered.stdout
    shown = data_cli("catalog", "show", "dataset", "feb-sales", as_=BAKERY).stdout
    assert "Preview" in shown and "date (date)" in shown and "sold (integer)" in shown
    assert "2024-02-01" in shown and "10 of 28 rows" in shown and "sales.csv (uploaded by Anna" in shown
    item = data_cli.json("catalog", "show", "dataset", "feb-sales", as_=BAKERY)
    assert item["details"]["sha256"] == hashlib.sha256(SALES).hexdigest() and item["visibility"] == "organization"


def test_an_operators_quota_refuses_an_upload_in_one_line(
    data_cli: Cli, small_chunks: LiveServer, tmp_path: Path
) -> None:
    with _client(small_chunks) as client:
        project = client.list_projects()["items"][0]["id"]
    set_ = data_cli("data", "quota", "--project", project, "--max-bytes", "1KiB", as_=OPERATOR)
    assert "1.0 KiB" in set_.stdout
    shown = data_cli.json("data", "quota", as_=BAKERY)
    assert (shown["max_bytes"], shown["quota_bytes"]) == (1024, 1024)
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2000)
    err = data_cli.fails("data", "put", big, "--project", project, as_=BAKERY)
    assert "'big.csv' needs 2,000 bytes: over the project's storage quota (0 of 1,024 bytes in use)" in err
    assert "reserved to the factory's operators" in data_cli.fails(
        "data", "quota", "--project", project, "--max-bytes", "1KiB", as_=BAKERY
    )
    assert "not a size" in data_cli.fails("data", "quota", "--project", project, "--max-bytes", "lots", as_=OPERATOR)
