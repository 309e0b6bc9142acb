"""Projects: members from the project's organizations, managed by the PI; visibility by membership."""

from __future__ import annotations

import pytest

from aifactory.domain.access import PageRequest
from aifactory.domain.enums import ProjectRole
from aifactory.domain.errors import Conflict, Forbidden, NotFound
from aifactory.services import projects, proposals


@pytest.fixture
def project_id(world, bakery, institute):
    """An auto-accepted playground project of the bakery with the institute as partner."""
    pid = world.draft(bakery, partner_organization_ids=[institute.user.organization_id])
    world.submit(bakery, pid)
    with world.uow_factory(write=False) as uow:
        return uow.projects.by_proposal(pid).id


def members(world, project_id):
    return {(m.user_id, m.role) for m in world.read(projects.get, world.operator, project_id).members}


def add(world, actor, project_id, **kw):
    return world.run(projects.add_member, actor, project_id, **kw)


def test_the_pi_adds_members_from_lead_and_partner_organizations(world, bakery, institute, project_id):
    ben = world.user("ben@backhaus.example", bakery.user.organization_id)
    lars = world.user("lars@fz-nord.example", institute.user.organization_id)
    add(world, bakery, project_id, user_id=ben.id)
    m = add(world, bakery, project_id, user_id=lars.id, role=ProjectRole.PI)
    assert (m.user_id, m.role) == (lars.id, ProjectRole.PI)
    assert members(world, project_id) == {
        (bakery.id, ProjectRole.PI),
        (ben.id, ProjectRole.MEMBER),
        (lars.id, ProjectRole.PI),
    }
    assert world.actions("project", project_id)[-2:] == ["project.member_added", "project.member_added"]


def test_members_come_only_from_the_project_organizations(world, bakery, outsider, project_id):
    claire = world.user("claire@medvision.example", outsider.user.organization_id)
    unaffiliated = world.reviewer()
    before = world.snapshot_counts()
    for user in (claire, unaffiliated):
        with pytest.raises(Forbidden, match="organizations"):
            add(world, bakery, project_id, user_id=user.id)
    assert world.snapshot_counts() == before


def test_only_the_pi_or_an_operator_manages_members(world, bakery, institute, outsider, project_id):
    ben = world.user("ben@backhaus.example", bakery.user.organization_id)
    cleo = world.user("cleo@backhaus.example", bakery.user.organization_id)
    add(world, bakery, project_id, user_id=ben.id)
    with pytest.raises(Forbidden, match="PI"):
        add(world, ben, project_id, user_id=cleo.id)  # a plain member
    with pytest.raises(NotFound):
        add(world, institute, project_id, user_id=cleo.id)  # partner organization, but not a member
    with pytest.raises(NotFound):
        add(world, outsider, project_id, user_id=cleo.id)
    add(world, world.operator, project_id, user_id=cleo.id)
    assert (cleo.id, ProjectRole.MEMBER) in members(world, project_id)


def test_member_input_errors(world, bakery, project_id):
    with pytest.raises(Forbidden, match="organizations"):  # unknown ids read as outsiders: ids tell nothing
        add(world, bakery, project_id, user_id=999)
    with pytest.raises(Conflict, match="already a member"):
        add(world, bakery, project_id, user_id=bakery.id)
    with pytest.raises(NotFound):
        add(world, bakery, 999, user_id=bakery.id)


def test_removing_members_keeps_a_pi(world, bakery, project_id):
    ben = world.user("ben@backhaus.example", bakery.user.organization_id)
    add(world, bakery, project_id, user_id=ben.id)
    world.run(projects.remove_member, bakery, project_id, ben.id)
    assert members(world, project_id) == {(bakery.id, ProjectRole.PI)}
    with pytest.raises(Conflict, match="at least one PI"):
        world.run(projects.remove_member, bakery, project_id, bakery.id)
    with pytest.raises(NotFound):
        world.run(projects.remove_member, bakery, project_id, ben.id)
    assert world.actions("project", project_id)[-1] == "project.member_removed"


def test_partners_see_the_proposal_and_the_project_once_members(world, bakery, institute, outsider, project_id):
    with world.uow_factory(write=False) as uow:
        pid = uow.projects.get(project_id).proposal_id
    assert world.read(proposals.get, institute, pid).id == pid
    with pytest.raises(NotFound):
        world.read(projects.get, institute, project_id)
    assert world.read(projects.list_visible, institute, PageRequest()).total == 0
    add(world, bakery, project_id, user_id=institute.id)
    assert world.read(projects.get, institute, project_id).id == project_id
    assert [p.id for p in world.read(projects.list_visible, institute, PageRequest()).items] == [project_id]
    # the outsider sees neither
    with pytest.raises(NotFound):
        world.read(proposals.get, outsider, pid)
    assert world.read(projects.list_visible, outsider, PageRequest()).total == 0


def test_allocations_are_visible_to_members_only(world, bakery, outsider, project_id):
    page = world.read(projects.list_allocations, bakery, PageRequest())
    [alloc] = page.items
    assert alloc.project_id == project_id
    assert world.read(projects.get_allocation, bakery, alloc.id).id == alloc.id
    assert world.read(projects.list_allocations, outsider, PageRequest()).total == 0
    with pytest.raises(NotFound):
        world.read(projects.get_allocation, outsider, alloc.id)
    with pytest.raises(NotFound):
        world.read(projects.list_allocations, outsider, PageRequest(), project_id=project_id)
    assert world.read(projects.list_allocations, world.operator, PageRequest(), project_id=project_id).total == 1
