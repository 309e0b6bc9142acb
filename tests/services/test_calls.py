"""Access calls: created and changed by operators, validated, audited."""

from __future__ import annotations

from datetime import date

import pytest

from aifactory.domain.access import PageRequest
from aifactory.domain.enums import AccessMode
from aifactory.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from aifactory.services import calls, sites


def create(world, actor=None, **kw):
    fields = dict(
        slug="spring-2026",
        title="Spring",
        access_mode=AccessMode.FAST_LANE,
        site_id=world.site_id,
        opens_on=date(2026, 3, 1),
        max_gpu_hours=10_000,
        resource_ids=[world.booster],
    )
    return world.run(calls.create_call, actor or world.operator, **{**fields, **kw})


def test_a_call_is_created_normalized_and_audited(world):
    call = create(
        world,
        eligible_countries=["de", "FR", "DE"],
        eligible_kinds=["sme", "startup", "sme"],
        durations_months=[6, 1, 6],
        cutoff_days=[15, 1],
    )
    assert call.eligible_countries == ["DE", "FR"]
    assert call.eligible_kinds == ["sme", "startup"]
    assert call.durations_months == [1, 6]
    assert call.cutoff_days == [1, 15]
    stored = world.read(calls.get_call, call.id)
    assert (stored.slug, stored.max_gpu_hours, stored.resource_ids) == ("spring-2026", 10_000, [world.booster])
    assert world.actions("call", call.id) == ["call.created"]


def test_only_operators_create_calls(world, bakery):
    with pytest.raises(Forbidden):
        create(world, bakery)


def test_slugs_are_unique(world):
    create(world)
    with pytest.raises(Conflict):
        create(world)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"eligible_countries": ["ZZ"]}, "eligible_countries"),
        ({"max_gpu_hours": 0}, "max_gpu_hours"),
        ({"auto_approve_gpu_hours": 20_000}, "auto_approve_gpu_hours"),
        ({"closes_on": date(2026, 2, 1)}, "closes_on"),
        ({"durations_months": []}, "durations_months"),
        ({"cutoff_days": [32]}, "cutoff_days"),
        ({"resource_ids": []}, "resource_ids"),
    ],
)
def test_invalid_settings_name_the_field_and_write_nothing(world, kw, field):
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput) as exc:
        create(world, **kw)
    assert field in {e.field for e in exc.value.errors}
    assert world.snapshot_counts() == before


def test_a_call_offers_only_resources_of_its_site(world):
    other = world.run(
        sites.create_site, world.operator, slug="hammerhai", name="HammerHAI", country="DE", holiday_subdivision="BW"
    )
    foreign = world.run(
        sites.add_resource,
        world.operator,
        other.id,
        name="gpu",
        nodes=1,
        gpus_per_node=4,
        cpus_per_node=64,
        memory_gb_per_node=256,
    ).id
    with pytest.raises(InvalidInput) as exc:
        create(world, resource_ids=[world.booster, foreign])
    assert exc.value.errors[0].field == "resource_ids"
    with pytest.raises(NotFound):
        create(world, site_id=999)


def test_update_records_only_what_changed(world, uow_factory):
    call = create(world)
    world.run(calls.update_call, world.operator, call.id, {"max_gpu_hours": 20_000, "title": "Spring"})
    assert world.read(calls.get_call, call.id).max_gpu_hours == 20_000
    with uow_factory(write=False) as uow:
        event = uow.audit.list(PageRequest(), entity_type="call", action="call.updated").items[0]
    assert (event.before, event.after) == ({"max_gpu_hours": 10_000}, {"max_gpu_hours": 20_000})
    assert event.actor_id == world.operator.id


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"slug": "renamed"}, "slug"), ({"site_id": 2}, "site_id"), ({"min_gpu_hours": 50_000}, "max_gpu_hours")],
)
def test_invalid_updates_change_nothing(world, changes, field):
    call = create(world)
    before = world.snapshot_counts()
    with pytest.raises(InvalidInput) as exc:
        world.run(calls.update_call, world.operator, call.id, changes)
    assert field in {e.field for e in exc.value.errors}
    stored = world.read(calls.get_call, call.id)
    assert (stored.slug, stored.min_gpu_hours) == ("spring-2026", 1)
    assert world.snapshot_counts() == before


def test_closing_a_call_and_listing_open_ones(world):
    call = create(world)
    future = create(world, slug="autumn", opens_on=date(2026, 9, 1))
    world.run(calls.update_call, world.operator, call.id, {"closed": True})
    today = world.clock.now().date()
    open_ids = {c.id for c in world.read(calls.list_calls, PageRequest(), open_on=today).items}
    assert open_ids == set(world.calls.values())
    assert call.id not in open_ids and future.id not in open_ids
    fast = world.read(calls.list_calls, PageRequest(), access_mode="fast_lane")
    assert {c.access_mode for c in fast.items} == {AccessMode.FAST_LANE} and fast.total == 3
