"""The portal on a demo with its year of history looks like a factory in use: the KPI dashboard's charts all have
data, the operator's queue holds the waiting proposals, and a past project's burn-down has its usage."""

from __future__ import annotations

import re

from sqlalchemy import select

from aifactory.demo_history import COLLEAGUES, RECENT
from aifactory.domain.enums import ProposalStatus
from aifactory.domain.ledger import EntryKind
from aifactory.store import tables
from tests.support.portal import Portal


def test_every_kpi_chart_has_data(history_portal: Portal) -> None:
    page = history_portal.browser("operator").get("/operator/kpis")
    assert page.status_code == 200
    ids = set(re.findall(r'<figure class="chart" aria-labelledby="([^"]+)-cap"', page.text))
    assert {"chart-sector", "chart-org-kind", "chart-access-mode", "chart-month", "chart-utilization"} <= ids
    assert {"chart-decision", "chart-first-job"} <= ids
    assert "chart-empty" not in page.text  # no chart says it has nothing to show
    months = re.search(r'aria-labelledby="chart-month-cap".*?</figure>', page.text, re.S)
    assert months is not None and months.group(0).count('<th scope="row">') >= 24  # 12 months, drawing and phone


def test_the_operator_queue_holds_the_waiting_proposals(history_portal: Portal) -> None:
    with history_portal.api.uow_factory(write=False) as uow:
        waiting = uow.session.scalars(
            select(tables.proposals.c.id).where(
                tables.proposals.c.status.in_([ProposalStatus.SUBMITTED, ProposalStatus.UNDER_REVIEW])
            )
        ).all()
    page = history_portal.browser("operator").get("/operator")
    listed = {int(i) for i in re.findall(r'href="/operator/proposals/(\d+)"', page.text)}
    assert len(waiting) >= 2 + RECENT and listed == set(waiting)  # the demo's two and the history's


def test_a_past_projects_burn_down_shows_its_usage(history_portal: Portal) -> None:
    backhaus = history_portal.api.info.org_ids["Backhaus Kiel GmbH"]
    entries, projects = tables.ledger_entries.c, tables.projects.c
    with history_portal.api.uow_factory(write=False) as uow:
        project = uow.session.scalar(
            select(projects.id)
            .join(tables.ledger_entries, entries.project_id == projects.id)
            .where(projects.lead_organization_id == backhaus, entries.kind == EntryKind.CHARGE)
            .order_by(projects.id)
        )
    assert project is not None
    jonas = history_portal.browser()  # Anna's colleague, who led the bakery's past projects
    jonas.sign_in(COLLEAGUES["Backhaus Kiel GmbH"][0])
    page = jonas.get(f"/projects/{project}")
    assert page.status_code == 200
    used = re.search(r'data-kpi="used">([^<]+)<', page.text)
    assert used is not None and not used.group(1).startswith("0 ")
    assert 'data-series="used"' in page.text and "chart-empty" not in page.text


def test_the_demo_people_keep_the_projects_the_tour_expects(history_portal: Portal) -> None:
    """The history's projects are led by colleagues: Anna still has her one project (`submit` needs no
    --project), and the playground call still accepts a new organization's small request at once."""
    page = history_portal.browser("anna").get("/projects")
    assert set(re.findall(r'href="/projects/(\d+)"', page.text)) == {str(history_portal.api.project_of("bakery"))}
    info = history_portal.api.info
    with history_portal.api.uow_factory(write=False) as uow:
        in_playground = set(
            uow.session.scalars(
                select(tables.proposals.c.id).where(tables.proposals.c.call_id == info.call_ids["playground"])
            )
        )
    assert in_playground == {info.proposal_ids["bakery"], info.proposal_ids["juelich"]}


def test_the_main_pages_render_the_history(history_portal: Portal) -> None:
    operator = history_portal.browser("operator")
    for path in ("/operator/audit", "/operator/calls", "/operator/users", "/operator/resources", "/projects"):
        page = operator.get(path)
        assert page.status_code == 200, (path, page.text[:300])
    assert (
        "jonas@backhaus-kiel.example"
        in operator.get("/operator/users").text + operator.get("/operator/users?offset=50").text
    )
    schulz = history_portal.browser("schulz")
    assert schulz.get("/reviews").status_code == 200
    jonas = history_portal.browser()
    jonas.sign_in(COLLEAGUES["Backhaus Kiel GmbH"][0])
    for path in ("/", "/projects", "/proposals"):
        assert jonas.get(path).status_code == 200, path
