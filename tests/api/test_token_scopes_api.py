"""API tokens with a scope: read-only tokens only read, ``jobs`` tokens reach jobs, templates and storage, a
``project`` token one project only; a scoped token cannot mint others. On SQLite and PostgreSQL."""

from __future__ import annotations

import sys

from tests.support.api import Api, assert_problem


def token(api: Api, who: str, scope: str, project_id: int | None = None) -> dict[str, str]:
    body = {"name": f"{scope} token", "ttl_days": 7, "scope": scope, "project_id": project_id}
    made = api.ok("POST", "/tokens", who, status=201, json=body)
    assert (made["scope"], made["scope_project_id"]) == (scope, project_id)
    return {"Authorization": f"Bearer {made['token']}"}


def spec(project: int) -> dict[str, object]:
    return {
        "name": "hello",
        "project": project,
        "command": [sys.executable, "-c", "print(1)"],
        "resources": {"time": 5},
    }


def test_a_read_only_token_only_reads(api: Api) -> None:
    read = token(api, "anna", "read")
    project = api.project_of("bakery")
    assert api.ok("GET", f"/projects/{project}", headers=read)["id"] == project
    assert api.ok("GET", "/proposals", headers=read)["total"] >= 1
    for method, path, body in (
        ("POST", "/tokens", {"name": "more"}),
        ("POST", "/jobs", spec(project)),
        ("POST", f"/projects/{project}/invitations", {"email": "a@b.example"}),
        ("DELETE", "/tokens/1", None),
    ):
        assert_problem(api.request(method, path, headers=read, json=body), 403, detail="read-only")


def test_a_jobs_token_reaches_jobs_templates_and_storage_only(api: Api) -> None:
    jobs = token(api, "anna", "jobs")
    project = api.project_of("bakery")
    job = api.ok("POST", "/jobs", headers=jobs, json=spec(project), status=201)
    assert api.ok("GET", f"/jobs/{job['id']}", headers=jobs)["project_id"] == project
    api.ok("GET", f"/projects/{project}/storage/files", headers=jobs)
    api.ok("GET", "/catalog", headers=jobs, params={"kind": "template"})
    api.ok("GET", "/me", headers=jobs)
    for method, path in (("GET", "/proposals"), ("POST", "/tokens"), ("GET", "/notifications"), ("GET", "/tokens")):
        assert_problem(api.request(method, path, headers=jobs, json={"name": "x"}), 403, detail="jobs")


def test_a_project_token_reaches_its_project_only(api: Api) -> None:
    bakery, grid = api.project_of("bakery"), api.project_of("gridwise")
    mine = token(api, "anna", "project", bakery)
    assert api.ok("GET", f"/projects/{bakery}", headers=mine)["id"] == bakery
    job = api.ok("POST", "/jobs", headers=mine, json=spec(bakery), status=201)
    assert api.ok("GET", f"/jobs/{job['id']}", headers=mine)["id"] == job["id"]
    assert api.ok("GET", "/jobs", headers=mine, params={"project_id": bakery})["total"] == 1
    assert_problem(api.get("/jobs", headers=mine), 403, detail=f"project_id={bakery}")
    assert_problem(api.get("/projects", headers=mine), 403)
    other = api.ok("POST", "/jobs", "daan", json=spec(grid), status=201)
    assert_problem(api.get(f"/jobs/{other['id']}", headers=mine), 403)
    assert_problem(api.post("/jobs", headers=mine, json=spec(grid)), 404)  # not hers in any case
    # an operator's project token: every project is visible to its user, the token reaches one
    ops = token(api, "operator", "project", bakery)
    assert api.ok("GET", f"/projects/{bakery}", headers=ops)["id"] == bakery
    assert_problem(api.get(f"/projects/{grid}", headers=ops), 403, detail=f"project {bakery} only")
    assert_problem(api.get("/jobs", headers=ops, params={"project_id": grid}), 403)
    assert_problem(api.get(f"/projects/{grid}/storage/files", headers=ops), 403)
    assert_problem(api.get(f"/jobs/{other['id']}", headers=ops), 403)


def test_a_project_token_names_a_project_of_its_user(api: Api) -> None:
    grid = api.project_of("gridwise")
    bad = api.post("/tokens", "anna", json={"name": "x", "scope": "project", "project_id": grid})
    assert_problem(bad, 422, "project_id")
    assert_problem(api.post("/tokens", "anna", json={"name": "x", "scope": "project"}), 422, "project_id")
    assert_problem(
        api.post("/tokens", "anna", json={"name": "x", "scope": "read", "project_id": grid}), 422, "project_id"
    )
    assert_problem(api.post("/tokens", "anna", json={"name": "x", "scope": "admin"}), 422, "scope")
    listed = {t["scope"] for t in api.ok("GET", "/tokens", "anna")}
    assert listed == {"full"}
