"""The factory's reports on a small hand-built factory, every figure worked out by hand (SQLite and PostgreSQL).

Organizations: Backhaus (SME, DE, sectors food+manufacturing), MedVision (startup, FR, health), FZ Nord (academia,
DE, no sector), Pixelwerk (startup, NL, education). Projects: P1 Backhaus + partner FZ Nord (playground, booster,
500 h), P2 MedVision (fast lane, booster), P3 FZ Nord + partner Pixelwerk (playground, develop).

Real charges (hours): P1 2026-03: 2 + 1.5, 2026-04: 1 · P2 2026-03: 10 · P3 2026-04: 5, 2026-05: 0.5.
What-if scenario ``what-if``: 100 h on P1 in 2026-03 (no allocation). A reservation of 0.5 h on P1 is no usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from aifactory.domain.enums import OrgKind
from aifactory.domain.errors import Forbidden, InvalidInput, NotFound
from aifactory.domain.ledger import EntryKind, LedgerEntry
from aifactory.services import decisions, identity, ledger, reports
from aifactory.services.context import Actor
from aifactory.store import tables
from tests.support.clock import START

HOUR = 3600


@dataclass
class Factory:
    bakery: Actor
    medvision: Actor
    institute: Actor
    pixel: Actor
    projects: dict[str, int]  # P1, P2, P3
    allocations: dict[str, int]


def org(world, name: str, kind: OrgKind, country: str, sectors: list[str]) -> Actor:
    slug = name.lower().replace(" ", "-")
    _org, user, _tok = world.run(
        identity.register,
        organization_name=name,
        kind=kind,
        country=country,
        sectors=sectors,
        email=f"admin@{slug}.example",
        name=f"{name} Admin",
        verified=True,
    )
    return Actor(user)


def charge(
    world,
    key: str,
    alloc: int | None,
    project: int,
    resource: int,
    seconds: int,
    at: datetime,
    scenario: str | None = None,
    kind: EntryKind = EntryKind.CHARGE,
) -> None:
    entry = LedgerEntry(
        allocation_id=alloc,
        project_id=project,
        resource_id=resource,
        kind=kind,
        amount=seconds,
        gpu_seconds=seconds,
        source="swf" if scenario else "gateway",
        scenario=scenario,
        period=f"{at:%Y-%m}",
        at=at,
        key=key,
        usage_start=at - timedelta(hours=1),
        usage_end=at,
    )
    with world.uow_factory() as uow:
        assert ledger.post(uow, entry)
        uow.commit()


def add_job(world, project: int, alloc: int, resource: int, user: Actor, started: datetime) -> None:
    with world.uow_factory() as uow:
        uow.session.execute(
            tables.jobs.insert().values(
                project_id=project,
                allocation_id=alloc,
                resource_id=resource,
                submitted_by=user.id,
                name="train",
                spec={},
                backend="local",
                tasks=1,
                state="completed",
                reason="",
                comment="",
                created_at=started,
                updated_at=started,
                submitted_at=started,
                started_at=started,
                finished_at=started + timedelta(hours=1),
            )
        )
        uow.commit()


def project_of(world, proposal_id: int) -> tuple[int, int]:
    with world.uow_factory(write=False) as uow:
        project = uow.projects.by_proposal(proposal_id)
        return project.id, project.allocations[0].id


@pytest.fixture
def factory(world) -> Factory:
    bakery = org(world, "Backhaus", OrgKind.SME, "DE", ["food", "manufacturing"])
    medvision = org(world, "MedVision", OrgKind.STARTUP, "FR", ["health"])
    institute = org(world, "FZ Nord", OrgKind.ACADEMIA, "DE", [])
    pixel = org(world, "Pixelwerk", OrgKind.STARTUP, "NL", ["education"])
    p1 = world.draft(bakery, "playground", partner_organization_ids=[institute.user.organization_id])
    p3 = world.draft(
        institute, "playground", resource_id=world.develop, partner_organization_ids=[pixel.user.organization_id]
    )
    p2 = world.draft(medvision, "fast_lane", requested_gpu_hours=8_000)
    rejected = world.draft(pixel, "fast_lane", requested_gpu_hours=3_000)
    for actor, pid in ((bakery, p1), (institute, p3), (medvision, p2), (pixel, rejected)):
        world.submit(actor, pid)  # the playground ones are accepted at once: 0 days to decision
    world.clock.advance(days=1)
    world.run(decisions.decide, world.operator, rejected, accept_it=False, reason="Out of scope")  # 1 day
    world.clock.advance(days=2)
    reviewer = world.reviewer()
    world.run(decisions.assign_reviewers, world.operator, p2, [reviewer.id])
    scores = {"excellence": 4, "impact": 4, "feasibility": 4}
    world.run(decisions.submit_review, reviewer, p2, scores=scores, declare_no_conflict=True)
    world.run(decisions.decide, world.operator, p2, accept_it=True)  # 3 days
    ids = {"P1": project_of(world, p1), "P2": project_of(world, p2), "P3": project_of(world, p3)}
    projects, allocs = {k: v[0] for k, v in ids.items()}, {k: v[1] for k, v in ids.items()}

    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)

    b, d = world.booster, world.develop
    charge(world, "c1", allocs["P1"], projects["P1"], b, 2 * HOUR, at("2026-03-10"))
    charge(world, "c2", allocs["P1"], projects["P1"], b, 3 * HOUR // 2, at("2026-03-20"))
    charge(world, "c3", allocs["P1"], projects["P1"], b, HOUR, at("2026-04-05"))
    charge(world, "c4", allocs["P2"], projects["P2"], b, 10 * HOUR, at("2026-03-25"))
    charge(world, "c5", allocs["P3"], projects["P3"], d, 5 * HOUR, at("2026-04-15"))
    charge(world, "c6", allocs["P3"], projects["P3"], d, HOUR // 2, at("2026-05-02"))
    charge(world, "r1", allocs["P1"], projects["P1"], b, HOUR // 2, at("2026-03-21"), kind=EntryKind.RESERVE)
    charge(world, "w1", None, projects["P1"], b, 100 * HOUR, at("2026-03-15"), scenario="what-if")
    # first jobs: P1 1.5 days after its acceptance at START (a later job too), P2 2 days after its own
    add_job(world, projects["P1"], allocs["P1"], b, bakery, START + timedelta(days=1, hours=12))
    add_job(world, projects["P1"], allocs["P1"], b, bakery, START + timedelta(days=4))
    add_job(world, projects["P2"], allocs["P2"], b, medvision, START + timedelta(days=5))
    return Factory(bakery, medvision, institute, pixel, projects, allocs)


def table_of(report) -> dict[str, tuple[float, int]]:
    return {r.key: (r.gpu_hours, r.entries) for r in report.rows}


def test_gpu_hours_by_month_org_kind_country_access_mode(world, factory) -> None:
    def by(dim: str, **kw):
        return world.read(reports.gpu_hours_by, world.operator, dim, **kw)

    month = by("month")
    assert [(r.key, r.gpu_hours, r.entries) for r in month.rows] == [
        ("2026-03", 13.5, 3),
        ("2026-04", 6.0, 2),
        ("2026-05", 0.5, 1),
    ]
    assert (month.total_gpu_hours, month.total_entries) == (20.0, 6)
    assert table_of(by("org_kind")) == {"sme": (4.5, 3), "startup": (10.0, 1), "academia": (5.5, 2)}
    assert table_of(by("org_kind", start="2026-03", end="2026-03")) == {"sme": (3.5, 2), "startup": (10.0, 1)}
    country = by("country")
    assert [(r.key, r.gpu_hours) for r in country.rows] == [("DE", 10.0), ("FR", 10.0)]
    assert table_of(by("access_mode")) == {"playground": (10.0, 5), "fast_lane": (10.0, 1)}
    april = by("access_mode", start="2026-04", end="2026-04")
    assert (table_of(april), april.total_gpu_hours) == ({"playground": (6.0, 2)}, 6.0)


def test_gpu_hours_by_sector_resource_and_project(world, factory) -> None:
    sector = world.read(reports.gpu_hours_by, world.operator, "sector")
    # Backhaus's 4.5 h count under both of its sectors; FZ Nord lists none; the total counts each hour once
    assert table_of(sector) == {
        "food": (4.5, 3),
        "manufacturing": (4.5, 3),
        "health": (10.0, 1),
        "unspecified": (5.5, 2),
    }
    assert sector.total_gpu_hours == 20.0
    resource = world.read(reports.gpu_hours_by, world.operator, "resource", start="2026-04")
    assert {r.label: r.gpu_hours for r in resource.rows} == {"booster": 1.0, "develop": 5.5}
    project = world.read(reports.gpu_hours_by, world.operator, "project", end="2026-03")
    assert table_of(project) == {str(factory.projects["P2"]): (10.0, 1), str(factory.projects["P1"]): (3.5, 2)}
    assert [r.key for r in project.rows] == [str(factory.projects["P2"]), str(factory.projects["P1"])]


def test_scenario_usage_stays_out_of_real_reports_and_real_out_of_scenarios(world, factory) -> None:
    real = world.read(reports.gpu_hours_by, world.operator, "month", start="2026-03", end="2026-03")
    assert real.total_gpu_hours == 13.5
    what_if = world.read(reports.gpu_hours_by, world.operator, "org_kind", scenario="what-if")
    assert (table_of(what_if), what_if.scenario) == ({"sme": (100.0, 1)}, "what-if")
    with pytest.raises(NotFound, match="no what-if scenario named 'other'"):
        world.read(reports.gpu_hours_by, world.operator, "month", scenario="other")
    util = world.read(reports.utilization, world.operator, "2026-03", "2026-03")
    assert {r.resource: r.gpu_hours for r in util.rows} == {"booster": 13.5, "develop": 0.0}
    assert world.read(reports.burn_down, world.operator, factory.allocations["P1"]).charged_gpu_hours == 4.5


def test_smes_and_startups_served_lead_or_partner(world, factory) -> None:
    march = world.read(reports.smes_served, world.operator, "2026-03", "2026-03")
    assert (march.by_kind, march.total) == ({"sme": 1, "startup": 1}, 2)
    assert [o.name for o in march.organizations] == ["Backhaus", "MedVision"]
    spring = world.read(reports.smes_served, world.operator, "2026-04", "2026-05")
    # Pixelwerk is only a partner of P3; FZ Nord (academia) is no SME
    assert [(o.name, o.kind, o.country) for o in spring.organizations] == [
        ("Backhaus", "sme", "DE"),
        ("Pixelwerk", "startup", "NL"),
    ]
    assert world.read(reports.smes_served, world.operator, "2026-06", "2026-12").total == 0


def test_time_to_decision_and_to_first_job(world, factory) -> None:
    rows = {r.access_mode: r for r in world.read(reports.time_to_decision, world.operator)}
    assert (rows["playground"].count, rows["playground"].median_days, rows["playground"].p90_days) == (2, 0.0, 0.0)
    # fast lane: the rejection after 1 day, the acceptance after 3 → median 2, p90 1 + 0.9 × 2
    assert (rows["fast_lane"].count, rows["fast_lane"].median_days, rows["fast_lane"].p90_days) == (2, 2.0, 2.8)
    # all four [0, 0, 1, 3]: median 0.5, p90 at rank 2.7 → 1 + 0.7 × 2
    assert (rows["all"].count, rows["all"].median_days, rows["all"].p90_days) == (4, 0.5, 2.4)
    first = {r.access_mode: r for r in world.read(reports.time_to_first_job, world.operator)}
    assert (first["playground"].count, first["playground"].waiting, first["playground"].median_days) == (1, 1, 1.5)
    assert (first["fast_lane"].count, first["fast_lane"].median_days) == (1, 2.0)
    assert (first["all"].count, first["all"].waiting, first["all"].median_days, first["all"].p90_days) == (
        2,
        1,
        1.75,
        1.95,
    )


def test_utilization_is_delivered_over_capacity(world, factory) -> None:
    util = world.read(reports.utilization, world.operator, "2026-04", "2026-05")
    assert util.hours == (30 + 31) * 24
    rows = {r.resource: r for r in util.rows}
    assert (rows["booster"].gpus, rows["booster"].capacity_gpu_hours) == (400, 400 * 1464)
    assert rows["booster"].utilization == pytest.approx(1.0 / (400 * 1464))
    assert (rows["develop"].gpus, rows["develop"].gpu_hours) == (16, 5.5)
    assert rows["develop"].utilization == pytest.approx(5.5 / (16 * 1464))
    with pytest.raises(InvalidInput, match="start"):
        world.read(reports.utilization, world.operator, "", "2026-05")


def test_burn_down_by_day_and_month(world, factory) -> None:
    bd = world.read(reports.burn_down, factory.bakery, factory.allocations["P1"])
    points = [(p.at, p.granted_gpu_hours, p.charged_gpu_hours, p.reserved_gpu_hours) for p in bd.points]
    assert points == [  # a job's reservation shows on the day it is held; settled ones net out within the day
        ("2026-03-02", 500.0, 0.0, 0.0),
        ("2026-03-10", 500.0, 2.0, 0.0),
        ("2026-03-20", 500.0, 3.5, 0.0),
        ("2026-03-21", 500.0, 3.5, 0.5),
        ("2026-04-05", 500.0, 4.5, 0.5),
    ]
    assert (bd.granted_gpu_hours, bd.charged_gpu_hours, bd.reserved_gpu_hours, bd.available_gpu_hours) == (
        500.0,
        4.5,
        0.5,
        495.0,
    )
    monthly = world.read(reports.burn_down, world.operator, factory.allocations["P1"], by="month")
    assert [(p.at, p.charged_gpu_hours) for p in monthly.points] == [("2026-03", 3.5), ("2026-04", 4.5)]


def test_permissions(world, factory) -> None:
    for fn, args in (
        (reports.gpu_hours_by, ("month",)),
        (reports.smes_served, ("2026-01", "2026-12")),
        (reports.time_to_decision, ()),
        (reports.time_to_first_job, ()),
        (reports.utilization, ("2026-01", "2026-12")),
    ):
        with pytest.raises(Forbidden, match="operators"):
            world.read(fn, factory.bakery, *args)
    assert world.read(reports.burn_down, factory.bakery, factory.allocations["P1"]).charged_gpu_hours == 4.5
    with pytest.raises(NotFound):
        world.read(reports.burn_down, factory.medvision, factory.allocations["P1"])
    with pytest.raises(NotFound):
        world.read(reports.burn_down, world.operator, 999_999)


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"dimension": "colour"}, "by"),
        ({"start": "2026-13"}, "start"),
        ({"end": "26-01"}, "end"),
        ({"start": "2026-05", "end": "2026-04"}, "end"),
    ],
)
def test_bad_input_names_the_parameter(world, kw, field) -> None:
    args = {"dimension": "month", **kw}
    with pytest.raises(InvalidInput) as err:
        world.read(reports.gpu_hours_by, world.operator, args.pop("dimension"), **args)
    assert [e.field for e in err.value.errors] == [field]


def test_percentile() -> None:
    assert reports.percentile([], 50) is None
    assert reports.percentile([4.0], 90) == 4.0
    assert reports.percentile([3.0, 1.0, 2.0, 10.0], 50) == 2.5
    assert reports.percentile([0.0, 10.0], 90) == 9.0
