"""Templates take data: a parameter with ``"format": "dataset"`` (the bakery's sales, weather, events) is given
as ``@slug`` (a dataset) or a path in the project's storage, and becomes a job input of the same name instead of
an ``AIF_PARAM_`` variable; every bad parameter is reported at once."""

from __future__ import annotations

from tests.support.api import Api, assert_problem
from tests.support.storage import upload

SALES = b"day,item,pieces\n2024-01-01,Brot,12\n2024-01-02,Brot,14\n"
RUN = "/templates/bakery-forecast/run"


def test_every_bad_parameter_is_reported_at_once(api: Api) -> None:
    api.ok("GET", "/catalog?kind=template", "anna")  # the templates synced
    before = api.counts()
    params = {"salse": "x.csv", "colour": "red", "unit": 5, "sales": "@Not A Slug", "holdout_days": -1}
    body = assert_problem(
        api.post(RUN, "anna", json={"project": 1, "params": params}),
        422,
        "params.salse",
        "params.colour",
        "params.unit",
        "params.sales",
    )
    fields = [e["field"] for e in body["errors"]]
    assert {"params.salse", "params.colour", "params.unit", "params.sales"} <= set(fields)
    assert len(fields) >= 5 and "params.colour: unknown field" in body["detail"]
    assert api.counts() == before


def test_a_dataset_parameter_becomes_a_job_input(api: Api) -> None:
    p = api.project_of("bakery")
    upload(api, "anna", p, "shop/sales.csv", SALES)
    r = api.post(
        f"/projects/{p}/storage/datasets", "anna", json={"path": "shop/sales.csv", "slug": "my-shop", "title": "Shop"}
    )
    assert r.status_code == 201, r.text
    params = {"sales": "@my-shop", "weather": "shop/sales.csv", "date_col": "day", "value_col": "pieces"}
    job = api.ok("POST", RUN, "anna", status=201, json={"project": p, "params": params})
    assert job["spec"]["inputs"] == {"sales": {"dataset": "my-shop"}, "weather": {"storage": "shop/sales.csv"}}
    env = job["spec"]["env"]
    assert "AIF_PARAM_sales" not in env and "AIF_PARAM_weather" not in env and env["AIF_PARAM_date_col"] == "day"
    used = api.ok("GET", "/catalog/dataset/my-shop", "anna")["links"]
    assert ("used-in", job["id"]) in {(link["relation"], link["job_id"]) for link in used}
    kiel = api.ok("GET", "/catalog/dataset/kiel-bakery-sales", "anna")["links"]
    assert job["id"] not in [link["job_id"] for link in kiel]  # the shipped data was not used


def test_a_dataset_parameter_the_user_cannot_reach_is_named(api: Api) -> None:
    theirs = api.project_of("gridwise")
    upload(api, "daan", theirs, "grid.csv", SALES)
    r = api.post(
        f"/projects/{theirs}/storage/datasets", "daan", json={"path": "grid.csv", "slug": "grid", "title": "G"}
    )
    assert r.status_code == 201, r.text
    api.ok("GET", "/catalog?kind=template", "anna")
    before = api.counts()
    params = {"sales": "@grid", "events": "grid.csv"}
    assert_problem(api.post(RUN, "anna", json={"project": 1, "params": params}), 422, "params.sales", "params.events")
    assert api.counts() == before
