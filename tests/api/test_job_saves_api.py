"""A finished job's outputs go back to its project's storage: saved by name (the quota applies: 413 and nothing
visible when over), or saved and published as a dataset (registered from the stored file, usable as the next
job's input) or a model, in one step; another tenant's job answers like a missing one."""

from __future__ import annotations

from typing import Any

from aifactory.services.datasets import content_of
from tests.support.api import Api, assert_problem, settle
from tests.support.storage import files_path, sha

TABLE = b"day,item,pieces\n" + b"".join(f"2024-02-{d:02d},Brot,{d}\n".encode() for d in range(1, 21))


def _finished(api: Api, project: int) -> int:
    script = f"printf '{TABLE.decode().replace(chr(10), chr(92) + 'n')}' > out.csv\n"
    spec = {"name": "maker", "project": project, "script": script, "outputs": ["out.csv"]}
    job = settle(api, api.ok("POST", "/jobs", "anna", status=201, json=spec)["id"], timeout=60)
    assert job["state"] == "completed", job
    return int(job["id"])


def _save(api: Api, who: str, job: int, **body: Any) -> Any:
    return api.post(f"/jobs/{job}/artifacts/save", who, json=body)


def test_an_output_is_saved_into_the_projects_storage(api: Api) -> None:
    p = api.project_of("bakery")
    job = _finished(api, p)
    r = _save(api, "anna", job, path="out.csv", to="results/out.csv")
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["size"], r.json()["sha256"]) == ("results/out.csv", len(TABLE), sha(TABLE))
    assert api.get(files_path(p, "results/out.csv"), "anna").content == TABLE
    assert_problem(_save(api, "anna", job, path="missing.csv", to="x.csv"), 404)
    assert_problem(_save(api, "anna", job, path="out.csv", to="../escape.csv"), 422, "to")
    assert_problem(_save(api, "daan", job, path="out.csv", to="stolen.csv"), 404)  # not theirs: as if missing


def test_over_the_quota_the_save_is_refused_and_nothing_shows(api: Api) -> None:
    p = api.project_of("bakery")
    job = _finished(api, p)
    api.ok("PUT", f"/projects/{p}/storage/quota", "operator", json={"max_bytes": 100, "max_files": 5})
    before = api.counts()
    assert_problem(_save(api, "anna", job, path="out.csv", to="big.csv"), 413)
    assert api.ok("GET", files_path(p), "anna")["items"] == []
    assert api.counts() == before  # no stored file, no upload left behind
    uploads = api.client.app.state.ctx.storage.uploads
    assert not uploads.exists() or not any(uploads.iterdir())


def test_an_output_is_saved_and_published_as_a_dataset_that_the_next_job_reads(api: Api) -> None:
    p = api.project_of("bakery")
    job = _finished(api, p)
    body = {"path": "out.csv", "kind": "dataset", "slug": "feb-sales", "title": "February", "save_to": "pub/feb.csv"}
    r = api.post(f"/jobs/{job}/publish", "anna", json=body)
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["kind"], item["details"]["sha256"], item["details"]["format"]) == ("dataset", sha(TABLE), "csv")
    assert item["details"]["provenance"]["storage_path"] == "pub/feb.csv"
    assert ("produced-by", job) in {(link["relation"], link["job_id"]) for link in item["links"]}
    assert api.get(files_path(p, "pub/feb.csv"), "anna").content == TABLE
    with api.uow_factory(write=False) as uow:
        assert content_of(next(iter(uow.catalog.with_slug("dataset", "feb-sales")))) is not None  # type: ignore[arg-type]
    spec = {
        "name": "next",
        "project": p,
        "script": 'wc -l < "$AIF_INPUT_FEB"\n',
        "inputs": {"feb": {"dataset": "feb-sales"}},
    }
    nxt = settle(api, api.ok("POST", "/jobs", "anna", status=201, json=spec)["id"], timeout=60)
    assert nxt["state"] == "completed" and api.get(f"/jobs/{nxt['id']}/logs", "anna").text.strip() == "21"
    taken = api.post(f"/jobs/{job}/publish", "anna", json={**body, "save_to": "pub/again.csv"})
    assert_problem(taken, 409, "slug")
    assert api.get(files_path(p, "pub/again.csv"), "anna").status_code == 404  # refused before anything was saved


def test_an_output_is_saved_and_published_as_a_model(api: Api) -> None:
    p = api.project_of("bakery")
    job = _finished(api, p)
    body = {"path": "out.csv", "kind": "model", "slug": "feb-model", "title": "Model", "save_to": "models/m.csv"}
    item = api.ok("POST", f"/jobs/{job}/publish", "anna", status=201, json=body)
    assert item["details"]["saved_to"] == {"project_id": p, "path": "models/m.csv"}
    assert item["details"]["sha256"] == sha(TABLE)
