"""Jobs take inputs: a dataset (by slug) or a path of the project's storage, staged read-only into the job
(the real local executor, in its sandbox) and exposed as ``AIF_INPUT_<NAME>``; what the submitter may not see
(another organization's private dataset, another project's storage) is refused with every bad input named,
and nothing is stored."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api, assert_problem, settle
from tests.support.storage import sha, upload

SALES = b"date,product,sold\n2024-01-01,Brot,12\n2024-01-02,Brot,14\n"
READ_AND_TRY_TO_WRITE = """
head -n 1 "$AIF_INPUT_SALES"
wc -l < "$AIF_INPUT_RAW"
echo "$AIF_INPUT_SALES $AIF_INPUT_RAW"
(echo tampered >> "$AIF_INPUT_SALES") 2>/dev/null && echo WROTE-SALES || echo REFUSED-SALES
(echo tampered > "$AIF_INPUT_RAW") 2>/dev/null && echo WROTE-RAW || echo REFUSED-RAW
rm -f "$AIF_INPUT_RAW" 2>/dev/null && echo REMOVED || echo KEPT
ls "$AIF_INPUT_FOLDER"
"""


def _dataset(api: Api, who: str, project: int, path: str, slug: str, **extra: str) -> dict[str, Any]:
    body = {"path": path, "slug": slug, "title": slug.title(), **extra}
    r = api.post(f"/projects/{project}/storage/datasets", who, json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _job(project: int, inputs: dict[str, Any], script: str = "true\n") -> dict[str, Any]:
    return {"name": "reads", "project": project, "script": script, "inputs": inputs}


def test_a_job_reads_its_inputs_and_cannot_change_them(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "sales/kiel.csv", SALES)
    upload(api, "anna", p, "more/a.csv", b"a\n")
    upload(api, "anna", p, "more/b.csv", b"b\n")
    _dataset(api, "anna", p, "sales/kiel.csv", "kiel-own")
    inputs = {"sales": {"dataset": "kiel-own"}, "raw": {"storage": "sales/kiel.csv"}, "folder": {"storage": "more"}}
    created = api.ok("POST", "/jobs", "anna", status=201, json=_job(p, inputs, READ_AND_TRY_TO_WRITE))
    job = settle(api, created["id"], timeout=60)
    out = api.get(f"/jobs/{job['id']}/logs", "anna").text.split()
    assert job["state"] == "completed", (job, out, api.get(f"/jobs/{job['id']}/logs?stream=stderr", "anna").text)
    job_dir = api.client.app.state.ctx.gateway.job_dir(job["id"])
    assert out[:4] == ["date,product,sold", "3", f"{job_dir}/inputs/sales/kiel.csv", f"{job_dir}/inputs/raw/kiel.csv"]
    assert out[4:] == ["REFUSED-SALES", "REFUSED-RAW", "KEPT", "a.csv", "b.csv"]
    stored = api.get(f"/projects/{p}/storage/files/sales/kiel.csv", "anna")
    assert sha(stored.content) == sha(SALES)  # the stored file is as it was
    assert api.ok("GET", f"/jobs/{job['id']}", "anna")["spec"]["inputs"] == inputs


def test_what_the_submitter_may_not_see_is_refused_all_at_once_and_nothing_is_stored(api: Api) -> None:
    mine, theirs = api.project_of("bakery"), api.project_of("gridwise")
    upload(api, "daan", theirs, "secret.csv", SALES)
    _dataset(api, "daan", theirs, "secret.csv", "their-private")
    api.ok("GET", "/catalog?kind=dataset", "anna")  # the shipped templates and datasets synced
    before = api.counts()
    inputs = {
        "x": {"dataset": "their-private"},
        "y": {"storage": "secret.csv"},
        "z": {"dataset": "no-such"},
        "w": {"dataset": "kiel-bakery-sales"},  # public, but no stored files behind it
    }
    r = api.post("/jobs", "anna", json=_job(mine, inputs))
    body = assert_problem(r, 422, "inputs.x", "inputs.y", "inputs.z", "inputs.w")
    assert "gridwise" not in body["detail"] and str(theirs) not in body["detail"]
    assert "inputs.x: dataset 'their-private' not found" in body["detail"]
    assert "no stored files" in body["detail"]
    assert api.counts() == before  # no job, no reservation, no audit entry


def test_the_inputs_shape_is_checked(api: Api) -> None:
    p = api.project_of("bakery")
    for inputs, field in (
        ({"Sales": {"dataset": "x"}}, "inputs"),
        ({"sales": {"dataset": "x", "storage": "y"}}, "inputs.sales"),
        ({"sales": {"url": "http://x"}}, "inputs.sales"),
        ({"sales": {"storage": "../other/x.csv"}}, "inputs.sales.storage"),
    ):
        assert_problem(api.post("/jobs", "anna", json=_job(p, inputs)), 422, field)


def test_another_organizations_public_dataset_is_an_input_once_approved(api: Api) -> None:
    theirs = api.project_of("gridwise")
    upload(api, "daan", theirs, "open.csv", SALES)
    item = _dataset(api, "daan", theirs, "open.csv", "open-sales", visibility="public")
    spec = _job(api.project_of("bakery"), {"sales": {"dataset": "open-sales"}}, 'cat "$AIF_INPUT_SALES"\n')
    assert_problem(api.post("/jobs", "anna", json=spec), 422, "inputs.sales")  # waiting for approval: unseen
    api.ok("POST", f"/catalog/items/{item['id']}/decision", "operator", json={"decision": "approve"})
    job = settle(api, api.ok("POST", "/jobs", "anna", status=201, json=spec)["id"], timeout=60)
    assert job["state"] == "completed" and api.get(f"/jobs/{job['id']}/logs", "anna").content == SALES
