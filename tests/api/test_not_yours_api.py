""" "Not yours" answers exactly like "does not exist": for every operation of the OpenAPI document that takes an
id in its path, another tenant's id and an id that exists nowhere get the same status and the same body (with
the id itself read as N). The operations are enumerated from the document, so a new endpoint is covered (or
this test says which body it needs)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from aifactory.services import catalog, jobs, notifications
from aifactory.services.context import Actor
from tests.fakes import FakeBackend
from tests.support.api import Api
from tests.support.demo import PEOPLE

MISSING = 999_999
CALLER = "anna"  # Backhaus Kiel: her own ids are the other parameters' values
# public facts (organizations, calls, sites, resources, templates), no ids, slugs (tested on their own below) or
# the key of a call's question (its attachment is found by the proposal's id)
PUBLIC = {"org_id", "call_id", "site_id", "resource_id", "name", "kind", "path", "slug", "key"}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/users/{user_id}/roles"): {"is_reviewer": True},
    ("PATCH", "/proposals/{proposal_id}"): {"title": "Hijacked"},
    ("POST", "/proposals/{proposal_id}/reviewers"): {"reviewer_ids": [1]},
    ("POST", "/proposals/{proposal_id}/reviews"): {"scores": {"excellence": 1, "impact": 1, "feasibility": 1}},
    ("POST", "/proposals/{proposal_id}/declaration"): {"conflict": False},
    ("POST", "/proposals/{proposal_id}/decision"): {"decision": "reject", "reason": "no"},
    ("POST", "/projects/{project_id}/members"): {"email": PEOPLE["lars"]},
    ("POST", "/projects/{project_id}/invitations"): {"email": PEOPLE["lars"]},
    ("PATCH", "/organizations/{org_id}/members/{user_id}"): {"admin": True},
    ("POST", "/consents/{consent_id}"): {"confirm": True},
    ("POST", "/allocations/{allocation_id}/adjust"): {"gpu_hours": 1, "reason": "x"},
    ("POST", "/allocations/{allocation_id}/suspend"): {"reason": "x"},
    ("POST", "/catalog/items/{item_id}/decision"): {"decision": "approve"},
    ("POST", "/jobs/{job_id}/publish"): {"path": "x", "kind": "model", "slug": "leak", "title": "Leak"},
    ("POST", "/jobs/{job_id}/artifacts/save"): {"path": "x", "to": "leak.csv"},
    ("POST", "/projects/{project_id}/storage/uploads"): {"name": "leak.csv", "size": 1},
    ("PUT", "/projects/{project_id}/storage/uploads/{upload_id}"): {},
    ("POST", "/projects/{project_id}/storage/uploads/{upload_id}/complete"): {},
    ("PUT", "/projects/{project_id}/storage/quota"): {"max_bytes": 1},
    ("POST", "/projects/{project_id}/storage/datasets"): {"path": "x", "slug": "leak", "title": "Leak"},
}


def _job(api: Api, who: str, project_id: int, tmp: Path) -> int:
    gw = jobs.Gateway(backend=FakeBackend(), backend_name="fake", site="local", jobs_root=tmp / who)
    with api.uow_factory(write=False) as uow:
        actor = Actor(uow.users.by_email(PEOPLE[who]))
    doc = {"name": "j", "project": project_id, "command": ["true"], "resources": {"time": 5}}
    return jobs.submit_job(api.uow_factory, api.clock, actor, gw, doc).stored_id


def _private_item(api: Api, who: str, slug: str) -> int:
    with api.uow_factory() as uow:
        actor = Actor(uow.users.by_email(PEOPLE[who]))
        item = catalog.publish(uow, api.clock, actor, kind="dataset", slug=slug, title=slug)
        return item.stored_id


def _upload(api: Api, who: str, project_id: int) -> int:
    body = {"name": f"{who}.csv", "size": 3}
    return int(api.ok("POST", f"/projects/{project_id}/storage/uploads", who, status=201, json=body)["id"])


def _notification_of(api: Api, who: str, project_id: int) -> int:
    """A notification in the person's inbox: one about their project's allocation."""
    with api.uow_factory() as uow:
        alloc = uow.projects.get(project_id).allocations[0]
        notifications.note(uow, api.clock, alloc, "threshold-50", "used 50% of its GPU-hours")
        uow.commit()
    return int(api.ok("GET", "/notifications", who)["items"][0]["id"])


def _token_of(api: Api, who: str) -> int:
    with api.uow_factory(write=False) as uow:
        user = uow.users.by_email(PEOPLE[who])
        return next(t.id for t in uow.tokens.for_user(user.id))


def _invitation(api: Api, who: str, project_id: int) -> int:
    body = {"email": f"colleague.of.{who}@example.org"}
    return int(api.ok("POST", f"/projects/{project_id}/invitations", who, json=body, status=202)["id"])


def _consent_asked_of_backhaus(api: Api) -> int:
    """Eva's draft names Backhaus Kiel as a partner; her submission asks its admin (anna)."""
    pid = api.pid("juelich")
    api.ok(
        "PATCH", f"/proposals/{pid}", "eva", json={"partner_organization_ids": [api.info.org_ids["Backhaus Kiel GmbH"]]}
    )
    assert api.post(f"/proposals/{pid}/submit", "eva").status_code == 409
    return int(api.ok("GET", "/consents", "anna")[0]["id"])


def ids(api: Api, tmp: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(the caller's own ids, another tenant's ids), per path parameter."""
    bakery, gridwise = api.project_of("bakery"), api.project_of("gridwise")
    alloc = {p: api.ok("GET", f"/allocations?project_id={p}", "operator")["items"][0]["id"] for p in (bakery, gridwise)}
    own = {
        "proposal_id": api.pid("bakery"),
        "project_id": bakery,
        "allocation_id": alloc[bakery],
        "job_id": _job(api, "anna", bakery, tmp),
        "user_id": api.user_id("anna"),
        "token_id": _token_of(api, "anna"),
        "item_id": _private_item(api, "anna", "own-data"),
        "upload_id": _upload(api, "anna", bakery),
        "invitation_id": _invitation(api, "anna", bakery),
        "consent_id": _consent_asked_of_backhaus(api),
        "notification_id": _notification_of(api, "anna", bakery),
    }
    foreign = {
        "proposal_id": api.pid("medvision"),
        "project_id": gridwise,
        "allocation_id": alloc[gridwise],
        "job_id": _job(api, "daan", gridwise, tmp),
        "user_id": api.user_id("claire"),
        "token_id": _token_of(api, "claire"),
        "item_id": _private_item(api, "claire", "their-data"),
        "upload_id": _upload(api, "daan", gridwise),
        "invitation_id": _invitation(api, "daan", gridwise),
        "consent_id": api.ok("GET", "/consents", "lars")[0]["id"],  # the demo's: FZ Nord's for the bakery
        "notification_id": _notification_of(api, "daan", gridwise),
    }
    return own, foreign


def operations(api: Api) -> list[tuple[str, str, list[str]]]:
    doc = api.client.get("/api/v1/openapi.json").json()
    found = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            if any(n not in PUBLIC for n in names):
                found.append((method.upper(), path.removeprefix("/api/v1"), names))
    return found


def shape(r: Any, ident: int) -> tuple[Any, ...]:
    """What a caller can compare: status, type, and the body with the id asked for read as N."""
    body = re.sub(rf"\b{ident}\b", "N", r.text)
    return r.status_code, r.headers.get("content-type"), body


def fill(path: str, values: dict[str, Any]) -> str:
    return path.format(**{k: values.get(k, "x") for k in re.findall(r"{(\w+)(?::\w+)?}", path)}).replace(
        "{path:path}", "x"
    )


def test_every_id_of_another_tenant_answers_like_a_missing_one(api: Api, tmp_path: Path) -> None:
    own, foreign = ids(api, tmp_path)
    ops = operations(api)
    assert len(ops) >= 25, ops  # the document was read
    unlisted = [(m, p) for m, p, _ in ops if m in ("POST", "PATCH", "PUT") and (m, p) not in BODIES]
    needs_body = [op for op in unlisted if "requestBody" in _operation(api, *op)]
    assert needs_body == [], f"add a body for {needs_body} to BODIES"
    differ = []
    for method, path, names in ops:
        for name in (n for n in names if n not in PUBLIC):
            base = {**own, "kind": "dataset", "path": "x"}
            body = BODIES.get((method, path))
            missing = api.request(method, fill(path, {**base, name: MISSING}), CALLER, json=body)
            theirs = api.request(method, fill(path, {**base, name: foreign[name]}), CALLER, json=body)
            if shape(missing, MISSING) != shape(theirs, foreign[name]):
                differ.append((method, path, name, missing.status_code, theirs.status_code, theirs.text[:200]))
    assert differ == [], "\n".join(map(str, differ))


def _operation(api: Api, method: str, path: str) -> dict[str, Any]:
    doc = api.client.get("/api/v1/openapi.json").json()
    op: dict[str, Any] = doc["paths"]["/api/v1" + path][method.lower()]
    return op


@pytest.mark.parametrize("slug", ["their-data"])
def test_another_organizations_catalog_slug_answers_like_a_missing_one(api: Api, slug: str) -> None:
    _private_item(api, "claire", slug)
    theirs, missing = api.get(f"/catalog/dataset/{slug}", CALLER), api.get("/catalog/dataset/no-such-data", CALLER)
    assert (
        (theirs.status_code, theirs.json()["title"])
        == (missing.status_code, missing.json()["title"])
        == (
            404,
            "Not found",
        )
    )
    mine = api.ok(
        "POST", "/catalog", CALLER, status=201, json={"kind": "dataset", "slug": slug, "title": "Ours"}
    )  # the slug taken elsewhere is free here: a 409 would have confirmed it
    assert api.ok("GET", f"/catalog/dataset/{slug}", CALLER)["id"] == mine["id"]
