"""The catalog's use cases on both databases: templates loaded from folders (errors name the file and the
field), runs as ordinary charged jobs with their parameters in AIF_PARAM_*, visibility between tenants, and
publishing a job's artifact with its checksum verified and its provenance linked."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aifactory.catalog import TemplateError, load_templates
from aifactory.demo import OPERATOR_EMAIL, seed_demo
from aifactory.domain.access import PageRequest
from aifactory.domain.catalog import Approval, CatalogKind, Relation
from aifactory.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from aifactory.domain.jobs.execution import WORK_SUBDIR
from aifactory.domain.jobs.states import JobState
from aifactory.services import catalog, catalog_review, jobs
from aifactory.services.context import Actor
from aifactory.store import tables

from ..fakes import FakeBackend

ANNA, CLAIRE, LARS = "anna@backhaus-kiel.example", "claire@medvision.example", "lars@fz-nord.example"
TEMPLATE = """name: {name}
title: Sweep
summary: a test template
tags: [food]
parameters:
  type: object
  additionalProperties: false
  properties:
    epochs: {{type: integer, minimum: 1, maximum: 100, default: 3}}
    label: {{type: string, maxLength: 20}}
  required: [label]
resources: {{gpus_per_node: 1, time: 10}}
job:
  command: [python3, -c, "print(1)"]
  outputs: [out.json]
datasets: [bakery-sales]
"""


@pytest.fixture
def env(uow_factory, clock, tmp_path: Path):
    seed_demo(uow_factory, clock)
    site = tmp_path / "site"
    (site / "sweep").mkdir(parents=True)
    (site / "sweep" / "template.yaml").write_text(TEMPLATE.format(name="sweep"))
    (site / "sweep" / "README.md").write_text("# Sweep\n")
    catalog.sync_templates(uow_factory, clock, load_templates(site))
    gw = jobs.Gateway(backend=FakeBackend(), backend_name="inert", site="jupiter", jobs_root=tmp_path / "jobs")
    with uow_factory() as uow:
        people = {e: Actor(uow.users.by_email(e)) for e in (ANNA, CLAIRE, LARS)}
    return gw, people


def _count(uow_factory, table) -> int:
    with uow_factory(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(table))


def test_template_errors_name_the_file_and_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    cases = {
        "default": TEMPLATE.format(name="bad").replace("default: 3", "default: many"),
        "job.command": TEMPLATE.format(name="bad").replace('[python3, -c, "print(1)"]', "python3"),
        "resources.gpus_per_node": TEMPLATE.format(name="bad").replace("gpus_per_node: 1", "gpus_per_node: -1"),
        "job.shell": TEMPLATE.format(name="bad").replace("job:\n", "job:\n  shell: bash\n"),
        "name": TEMPLATE.format(name="other"),
        "not valid YAML": "name: [unclosed\n",
    }
    for field, text in cases.items():
        (bad / "bad").mkdir(parents=True, exist_ok=True)
        (bad / "bad" / "template.yaml").write_text(text)
        with pytest.raises(TemplateError) as exc:
            load_templates(bad)
        assert str(bad / "bad" / "template.yaml") in str(exc.value) and field in str(exc.value), (field, exc.value)
    with pytest.raises(TemplateError, match="already defined by"):
        (bad / "bad" / "template.yaml").write_text(TEMPLATE.format(name="hello-gpu").replace("bad", "hello-gpu"))
        (bad / "bad").rename(bad / "hello-gpu")
        load_templates(bad)
    assert [t.name for t in load_templates()][:1] and "hello-gpu" in [t.name for t in load_templates()]


def test_sync_is_idempotent_and_templates_are_public(env, uow_factory, clock, tmp_path) -> None:
    _, people = env
    assert catalog.sync_templates(uow_factory, clock, load_templates(tmp_path / "site")) == 0
    with uow_factory(write=False) as uow:
        found = catalog.search(uow, people[CLAIRE], PageRequest(), kind=CatalogKind.TEMPLATE)
        sweep = catalog.show(uow, people[CLAIRE], "template", "sweep").item
    assert {"hello-gpu", "sweep"} <= {i.slug for i in found.items}
    assert sweep.details["source"] == "site" and sweep.details["defaults"] == {"epochs": 3}
    assert sweep.body == "# Sweep\n" and sweep.tags == ["food"]


def test_bad_params_name_the_field_and_write_nothing(env, uow_factory, clock) -> None:
    gw, people = env
    before = (_count(uow_factory, tables.jobs), _count(uow_factory, tables.ledger_entries))
    for params, field in [
        ({"epochs": 0, "label": "x"}, "params.epochs"),
        ({}, "params.label"),
        ({"label": "x", "lr": 1}, "params.lr"),
        ({"label": 5}, "params.label"),
    ]:
        with pytest.raises(InvalidInput) as exc:
            catalog.run_template(uow_factory, clock, people[ANNA], gw, "sweep", params, 1)
        assert field in [e.field for e in exc.value.errors], exc.value
    with pytest.raises(NotFound):
        catalog.run_template(uow_factory, clock, people[ANNA], gw, "nope", {}, 1)
    with pytest.raises(NotFound):  # another organization's project
        catalog.run_template(uow_factory, clock, people[CLAIRE], gw, "sweep", {"label": "x"}, 1)
    assert (_count(uow_factory, tables.jobs), _count(uow_factory, tables.ledger_entries)) == before


def test_run_is_an_ordinary_charged_job_with_params_in_env(env, uow_factory, clock) -> None:
    gw, people = env
    with uow_factory(write=False) as uow:
        reserved = uow.projects.get(1).allocations[0].reserved_seconds
    job = catalog.run_template(
        uow_factory,
        clock,
        people[ANNA],
        gw,
        "sweep",
        {"label": "it's $(rm -rf /)"},
        1,
        name_override="my-sweep",
        idempotency_key="k1",
    )
    assert job.name == "my-sweep" and job.state is JobState.SUBMITTED
    assert job.spec["env"] == {"AIF_PARAM_epochs": "3", "AIF_PARAM_label": "it's $(rm -rf /)"}
    assert job.spec["command"] == ["python3", "-c", "print(1)"]  # parameters never enter the command
    handed = gw.backend.jobs[job.backend_id]
    assert handed.spec.env["AIF_PARAM_label"] == "it's $(rm -rf /)"
    with uow_factory(write=False) as uow:
        assert uow.projects.get(1).allocations[0].reserved_seconds == reserved + 600  # 1 GPU x 10 min
        links = uow.catalog.links_to_job(job.id, Relation.USED_IN)
    assert [link.from_item_id for link in links] == [catalog_id(uow_factory, "template", "sweep")]
    again = catalog.run_template(
        uow_factory, clock, people[ANNA], gw, "sweep", {"label": "x"}, 1, name_override="my-sweep", idempotency_key="k1"
    )
    assert again.id == job.id and _count(uow_factory, tables.catalog_links) == 1


def catalog_id(uow_factory, kind: str, slug: str) -> int:
    with uow_factory(write=False) as uow:
        (item,) = uow.catalog.with_slug(CatalogKind(kind), slug)
        return item.id


def test_visibility_between_organizations(env, uow_factory, clock) -> None:
    _, people = env
    with uow_factory() as uow:
        catalog.publish(
            uow,
            clock,
            people[CLAIRE],
            kind="dataset",
            slug="scans",
            title="Scans",
            visibility="organization",
            tags=["health"],
            details={"licence": "internal"},
        )
    with uow_factory() as uow:
        catalog.publish(
            uow,
            clock,
            people[CLAIRE],
            kind="story",
            slug="scan-story",
            title="Faster triage",
            visibility="public",
            tags=["health"],
            details={"results": "2x faster"},
        )
    with uow_factory(write=False) as uow:
        mine = {i.slug for i in catalog.search(uow, people[CLAIRE], PageRequest(), tags=["health"]).items}
        theirs = {i.slug for i in catalog.search(uow, people[ANNA], PageRequest(), tags=["health"]).items}
        by_q = {i.slug for i in catalog.search(uow, people[ANNA], PageRequest(), q="TRIAGE").items}
        with pytest.raises(NotFound):
            catalog.show(uow, people[ANNA], "dataset", "scans")
    # the public story waits for an operator: only its organization sees it (as pending) meanwhile
    assert mine == {"scans", "scan-story"} and theirs == set() and by_q == set()
    with uow_factory() as uow:
        operator = Actor(uow.users.by_email(OPERATOR_EMAIL))
        catalog_review.review_item(uow, clock, operator, catalog_id(uow_factory, "story", "scan-story"), approve=True)
    with uow_factory(write=False) as uow:
        theirs = {i.slug for i in catalog.search(uow, people[ANNA], PageRequest(), tags=["health"]).items}
        by_q = {i.slug for i in catalog.search(uow, people[ANNA], PageRequest(), q="TRIAGE").items}
    assert theirs == {"scan-story"} and by_q == {"scan-story"}
    # slugs are per organization: another's private "scans" confirms nothing and takes nothing
    with uow_factory() as uow:
        mine_too = catalog.publish(uow, clock, people[ANNA], kind="dataset", slug="scans", title="Mine")
    with uow_factory(write=False) as uow:
        assert catalog.show(uow, people[ANNA], "dataset", "scans").item.id == mine_too.id
        assert catalog.show(uow, people[CLAIRE], "dataset", "scans").item.title == "Scans"
    with uow_factory() as uow, pytest.raises(Conflict):  # its own organization's slug, and a listed one
        catalog.publish(uow, clock, people[ANNA], kind="dataset", slug="scans", title="Again")
    with uow_factory() as uow, pytest.raises(Conflict):
        catalog.publish(uow, clock, people[ANNA], kind="story", slug="scan-story", title="Ours", visibility="public")
    with uow_factory() as uow, pytest.raises(InvalidInput) as exc:
        catalog.publish(
            uow,
            clock,
            people[ANNA],
            kind="model",
            slug="Bad Slug",
            title="",
            tags=["OK?"],
            details={"sha256": "xyz", "colour": 1},
        )
    assert {"slug", "title", "tags.0"} <= {e.field for e in exc.value.errors}
    with uow_factory() as uow, pytest.raises(InvalidInput) as exc:
        catalog.publish(uow, clock, people[ANNA], kind="model", slug="m", title="M", details={"sha256": "xyz"})
    assert exc.value.errors[0].field == "details.sha256"


def _complete(uow_factory, clock, gw, job_id: int, content: bytes) -> None:
    work = gw.job_dir(job_id) / WORK_SUBDIR
    work.mkdir(parents=True, exist_ok=True)
    (work / "out.json").write_bytes(content)
    with uow_factory(write=False) as uow:
        backend_id = uow.jobs.get(job_id).backend_id
    gw.backend.states[backend_id] = JobState.COMPLETED
    jobs.reconcile(uow_factory, clock, gw)


def test_publish_job_output_verifies_checksum_and_links_provenance(env, uow_factory, clock) -> None:
    gw, people = env
    with uow_factory() as uow:
        catalog.publish(
            uow,
            clock,
            people[ANNA],
            kind="dataset",
            slug="bakery-sales",
            title="Bakery sales",
            visibility="public",
            details={"licence": "CC-BY-4.0"},
        )
    with uow_factory() as uow:  # listed, so that the project's other organization sees the provenance too
        op = Actor(uow.users.by_email(OPERATOR_EMAIL))
        catalog_review.review_item(uow, clock, op, catalog_id(uow_factory, "dataset", "bakery-sales"), approve=True)
    job = catalog.run_template(uow_factory, clock, people[ANNA], gw, "sweep", {"label": "x"}, 1)
    kw = dict(path="out.json", kind="model", slug="bakery-model", title="Bakery model")
    items = _count(uow_factory, tables.catalog_items)
    with pytest.raises(Conflict, match="only a completed job"):
        catalog.publish_job_output(uow_factory, clock, people[ANNA], gw, job.id, **kw)
    content = json.dumps({"w": [1, 2]}).encode()
    _complete(uow_factory, clock, gw, job.id, content)
    with pytest.raises(NotFound):  # other tenants: not even confirmed
        catalog.publish_job_output(uow_factory, clock, people[CLAIRE], gw, job.id, **kw)
    with pytest.raises(NotFound, match="no artifact"):
        catalog.publish_job_output(uow_factory, clock, people[ANNA], gw, job.id, **{**kw, "path": "../x"})
    with pytest.raises(InvalidInput) as exc:
        catalog.publish_job_output(uow_factory, clock, people[ANNA], gw, job.id, **kw, sha256="0" * 64)
    assert exc.value.errors[0].field == "sha256"
    assert _count(uow_factory, tables.catalog_items) == items  # nothing half-written
    digest = hashlib.sha256(content).hexdigest()
    entry = catalog.publish_job_output(
        uow_factory,
        clock,
        people[LARS],
        gw,
        job.id,
        **kw,
        sha256=digest,
        details={"framework": "sklearn", "licence": "MIT"},
    )
    assert entry.item.details["sha256"] == digest and entry.item.details["size"] == len(content)
    assert entry.item.job_id == job.id and entry.item.owner_organization_id == people[LARS].user.organization_id
    with uow_factory(write=False) as uow:
        shown = catalog.show(uow, people[LARS], "model", "bakery-model")
        with pytest.raises(NotFound):  # the project's other organization: the item is FZ Nord's own
            catalog.show(uow, people[ANNA], "model", "bakery-model")
        links = {(link.relation, link.to_item_id, link.job_id) for link in shown.links}
        dataset = catalog.show(uow, people[ANNA], "dataset", "bakery-sales")
    assert links == {(Relation.PRODUCED_BY, None, job.id), (Relation.TRAINED_ON, dataset.item.id, None)}
    assert {(link.relation, link.job_id) for link in dataset.links} >= {(Relation.USED_IN, job.id)}
    with pytest.raises(Forbidden):  # operators see the job, but publish only their own projects' outputs
        catalog.publish_job_output(uow_factory, clock, op, gw, job.id, **{**kw, "slug": "other"})
    with pytest.raises(Conflict):  # the slug is FZ Nord's already (Backhaus Kiel could still use it)
        catalog.publish_job_output(uow_factory, clock, people[LARS], gw, job.id, **kw)


def _story(uow_factory, clock, actor: Actor, slug: str, visibility: str = "public"):
    with uow_factory() as uow:
        return catalog.publish(uow, clock, actor, kind="story", slug=slug, title=slug.title(), visibility=visibility)


def _listed(uow_factory, actor: Actor | None) -> set[str]:
    with uow_factory(write=False) as uow:
        return {i.slug for i in catalog.search(uow, actor, PageRequest(), kind=CatalogKind.STORY).items}


def test_a_public_item_waits_for_an_operator_before_anyone_else_sees_it(env, uow_factory, clock) -> None:
    _, people = env
    item = _story(uow_factory, clock, people[CLAIRE], "triage")
    assert item.approval is Approval.PENDING
    with uow_factory(write=False) as uow:
        operator = Actor(uow.users.by_email(OPERATOR_EMAIL))
        assert [i.slug for i in catalog_review.pending(uow, operator, PageRequest()).items] == ["triage"]
        with pytest.raises(Forbidden):
            catalog_review.pending(uow, people[CLAIRE], PageRequest())
        with pytest.raises(NotFound):  # anonymous visitors and other organizations: as if it did not exist
            catalog.visible_item(uow, None, "story", "triage")
        with pytest.raises(NotFound):
            catalog.visible_item(uow, people[ANNA], "story", "triage")
        assert catalog.visible_item(uow, people[CLAIRE], "story", "triage").approval is Approval.PENDING
    assert "triage" not in _listed(uow_factory, None) | _listed(uow_factory, people[ANNA])
    assert "triage" in _listed(uow_factory, people[CLAIRE])
    with uow_factory() as uow, pytest.raises(Forbidden):
        catalog_review.review_item(uow, clock, people[CLAIRE], item.stored_id, approve=True)
    with uow_factory() as uow:
        catalog_review.review_item(uow, clock, operator, item.stored_id, approve=True)
    assert "triage" in _listed(uow_factory, None) and "triage" in _listed(uow_factory, people[ANNA])
    with uow_factory() as uow, pytest.raises(Conflict):  # decided already
        catalog_review.review_item(uow, clock, operator, item.stored_id, approve=False, reason="late")


def test_a_rejection_needs_a_reason_and_shows_it_to_the_owner_only(env, uow_factory, clock) -> None:
    _, people = env
    item = _story(uow_factory, clock, people[CLAIRE], "claims")
    with uow_factory(write=False) as uow:
        operator = Actor(uow.users.by_email(OPERATOR_EMAIL))
    with uow_factory() as uow, pytest.raises(InvalidInput) as exc:
        catalog_review.review_item(uow, clock, operator, item.stored_id, approve=False, reason="  ")
    assert exc.value.errors[0].field == "reason"
    with uow_factory() as uow:
        catalog_review.review_item(uow, clock, operator, item.stored_id, approve=False, reason="unproven claims")
    with uow_factory(write=False) as uow:
        own = catalog.visible_item(uow, people[CLAIRE], "story", "claims")
        assert (own.approval, own.approval_reason) == (Approval.REJECTED, "unproven claims")
    assert "claims" not in _listed(uow_factory, None) | _listed(uow_factory, people[ANNA])


def test_operators_publish_at_once_and_one_slug_is_listed_once(env, uow_factory, clock) -> None:
    _, people = env
    first = _story(uow_factory, clock, people[CLAIRE], "same")
    second = _story(uow_factory, clock, people[ANNA], "same")  # both wait: neither blocks nor reveals the other
    with uow_factory(write=False) as uow:
        operator = Actor(uow.users.by_email(OPERATOR_EMAIL))
    with uow_factory() as uow:
        catalog_review.review_item(uow, clock, operator, first.stored_id, approve=True)
    with uow_factory() as uow, pytest.raises(Conflict) as exc:
        catalog_review.review_item(uow, clock, operator, second.stored_id, approve=True)
    assert exc.value.errors[0].field == "slug"
    with uow_factory(write=False) as uow:  # anna sees her own (pending) item first, others the listed one
        assert catalog.visible_item(uow, people[ANNA], "story", "same").id == second.id
        assert catalog.visible_item(uow, None, "story", "same").id == first.id
    assert first_approval_of_operator(uow_factory, clock) is Approval.APPROVED


def first_approval_of_operator(uow_factory, clock) -> Approval:
    with uow_factory() as uow:
        lars = uow.users.by_email(LARS)
    operator_in_org = Actor(lars)
    operator_in_org.user.is_operator = True
    return _story(uow_factory, clock, operator_in_org, "from-ops").approval
