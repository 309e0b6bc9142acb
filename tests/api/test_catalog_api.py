"""The catalog endpoints on the demo: search and show with tenant isolation, publishing, running the built-in
``hello-gpu`` template on the real local executor and publishing its ``out.json`` with the right sha256."""

from __future__ import annotations

import hashlib
import json

from tests.support.api import Api, assert_problem, settle


def test_search_show_publish_and_isolation(api: Api) -> None:
    found = api.ok("GET", "/catalog?kind=template", "anna")
    assert "hello-gpu" in {i["slug"] for i in found["items"]}
    hello = api.ok("GET", "/catalog/template/hello-gpu", "claire")
    assert hello["details"]["source"] == "builtin" and hello["details"]["defaults"] == {
        "greeting": "hello",
        "repeat": 1,
    }
    assert hello["body"].startswith("# Hello, GPU")
    assert_problem(api.get("/catalog"), 401)
    body = {"kind": "dataset", "slug": "scans", "title": "Scans", "tags": ["health"], "details": {"licence": "x"}}
    created = api.ok("POST", "/catalog", "claire", status=201, json=body)
    assert created["visibility"] == "organization" and created["owner_organization_id"]
    assert_problem(api.get("/catalog/dataset/scans", "anna"), 404)  # another organization's item
    assert api.ok("GET", "/catalog?tag=health", "anna")["total"] == 0
    assert api.ok("GET", "/catalog?tag=health", "claire")["total"] == 1
    assert api.ok("GET", "/catalog?q=SCA", "operator")["total"] == 1
    # another organization's private slug is free here: the answer confirms nothing about it
    assert (
        api.ok("POST", "/catalog", "anna", status=201, json=body)["owner_organization_id"]
        != (created["owner_organization_id"])
    )
    assert api.ok("GET", "/catalog/dataset/scans", "claire")["id"] == created["id"]
    assert_problem(api.post("/catalog", "anna", json=body), 409, "slug")  # its own slug is taken
    bad = {**body, "slug": "Bad!", "kind": "template", "details": {"licence": 5}}
    assert_problem(api.post("/catalog", "anna", json=bad), 422, "slug", "kind")
    assert_problem(
        api.post("/catalog", "anna", json={**body, "slug": "s2", "details": {"colour": 1}}), 422, "details.colour"
    )


def test_run_bad_params_are_named_and_write_nothing(api: Api) -> None:
    api.ok("GET", "/catalog", "anna")  # the templates are synced on the first catalog request
    before = api.counts()
    r = api.post("/templates/hello-gpu/run", "anna", json={"project": 1, "params": {"repeat": 99, "x": 1}})
    assert_problem(r, 422, "params.repeat", "params.x")
    assert_problem(api.post("/templates/nope/run", "anna", json={"project": 1}), 404)
    assert_problem(api.post("/templates/hello-gpu/run", "claire", json={"project": 1}), 404)
    assert api.counts() == before


def test_hello_gpu_runs_and_its_output_is_published(api: Api) -> None:
    created = api.ok(
        "POST",
        "/templates/hello-gpu/run",
        "anna",
        status=201,
        json={"project": 1, "params": {"greeting": "moin; $(echo pwned)", "repeat": 2}},
    )
    assert created["spec"]["env"] == {"AIF_PARAM_greeting": "moin; $(echo pwned)", "AIF_PARAM_repeat": "2"}
    job = settle(api, created["id"])
    assert job["state"] == "completed", job
    log = api.get(f"/jobs/{job['id']}/logs", "anna").text
    assert log.splitlines()[:2] == ["moin; $(echo pwned)"] * 2 and "CUDA_VISIBLE_DEVICES=" in log
    out = api.get(f"/jobs/{job['id']}/artifacts/out.json", "anna").content
    assert json.loads(out)["repeat"] == 2 and json.loads(out)["gpus"] != ""
    digest = hashlib.sha256(out).hexdigest()
    body = {
        "path": "out.json",
        "kind": "model",
        "slug": "hello-model",
        "title": "Hello model",
        "sha256": digest,
        "visibility": "public",
        "details": {"framework": "none"},
    }
    assert_problem(api.post(f"/jobs/{job['id']}/publish", "claire", json=body), 404)
    assert_problem(api.post(f"/jobs/{job['id']}/publish", "anna", json={**body, "sha256": "0" * 64}), 422, "sha256")
    item = api.ok("POST", f"/jobs/{job['id']}/publish", "anna", status=201, json=body)
    assert item["details"]["sha256"] == digest and item["details"]["size"] == len(out) and item["job_id"] == job["id"]
    assert item["approval"] == "pending"
    assert_problem(api.get("/catalog/model/hello-model", "claire"), 404)  # public once an operator approved it
    api.ok("POST", f"/catalog/items/{item['id']}/decision", "operator", json={"decision": "approve"})
    shown = api.ok("GET", "/catalog/model/hello-model", "claire")  # public: every signed-in user
    assert [(link["relation"], link["job_id"]) for link in shown["links"]] == [("produced-by", job["id"])]


def test_public_items_wait_for_an_operator_through_the_api(api: Api) -> None:
    story = {"kind": "story", "slug": "triage", "title": "Triage", "body": "|---|", "visibility": "public"}
    created = api.ok("POST", "/catalog", "claire", status=201, json=story)
    assert (created["approval"], created["visibility"]) == ("pending", "public")
    assert_problem(api.get("/catalog/story/triage", "anna"), 404)
    assert "triage" not in {i["slug"] for i in api.ok("GET", "/catalog?kind=story", "anna")["items"]}
    mine = api.ok("GET", "/catalog?approval=pending", "claire")["items"]
    assert [(i["slug"], i["approval"]) for i in mine] == [("triage", "pending")]
    assert api.ok("GET", "/catalog?approval=pending", "anna")["items"] == []
    assert [i["id"] for i in api.ok("GET", "/catalog/pending", "operator")["items"]] == [created["id"]]
    assert_problem(api.get("/catalog/pending", "claire"), 403)
    decide = f"/catalog/items/{created['id']}/decision"
    assert_problem(api.post(decide, "claire", json={"decision": "approve"}), 403)
    assert_problem(api.post(decide, "operator", json={"decision": "reject"}), 422, "reason")
    approved = api.ok("POST", decide, "operator", json={"decision": "approve"})
    assert approved["approval"] == "approved"
    assert api.ok("GET", "/catalog/story/triage", "anna")["id"] == created["id"]
    assert_problem(api.post(decide, "operator", json={"decision": "approve"}), 409)
    assert_problem(api.post("/catalog/items/999999/decision", "operator", json={"decision": "approve"}), 404)
