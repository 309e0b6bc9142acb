"""The operator's portal pages: decisions, calls, resources, users, KPIs (with CSV) and the audit log, on the
demo (see tests/api/conftest.py): medvision under review (Schulz assigned), autonomia submitted to large scale,
gridwise accepted."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from aifactory.domain.enums import ProposalStatus
from aifactory.domain.ledger import EntryKind, LedgerEntry
from aifactory.services import identity, ledger, reports
from aifactory.services.context import Actor
from tests.support.portal import Portal

PAGES = [
    "/operator",
    "/operator/calls",
    "/operator/resources",
    "/operator/users",
    "/operator/kpis",
    "/operator/audit",
    "/operator/kpis.csv?dimension=month",
]
HOUR = 3600


def post_charge(portal: Portal, key: str, project: str, seconds: int, at: datetime) -> None:
    api = portal.api
    with api.uow_factory() as uow:
        alloc = uow.projects.by_proposal(api.pid(project)).allocations[0]
        ledger.post(
            uow,
            LedgerEntry(
                allocation_id=alloc.id,
                project_id=alloc.project_id,
                resource_id=alloc.resource_id,
                kind=EntryKind.CHARGE,
                amount=seconds,
                gpu_seconds=seconds,
                period=f"{at:%Y-%m}",
                at=at,
                key=key,
            ),
        )
        uow.commit()


@pytest.fixture
def charged(portal: Portal) -> None:
    post_charge(portal, "c1", "bakery", 2 * HOUR, datetime(2026, 3, 10, tzinfo=UTC))
    post_charge(portal, "c2", "bakery", 3 * HOUR // 2, datetime(2026, 4, 10, tzinfo=UTC))
    post_charge(portal, "c3", "gridwise", 3 * HOUR, datetime(2026, 3, 12, tzinfo=UTC))


def test_operator_pages_are_forbidden_to_others_and_ask_anonymous_visitors_to_sign_in(portal: Portal) -> None:
    anna, anonymous = portal.browser("anna"), portal.browser()
    pid = portal.api.pid("medvision")
    for path in [*PAGES, f"/operator/proposals/{pid}"]:
        r = anna.get(path)
        assert r.status_code == 403, path
        assert "reserved to the factory" in r.text
        r = anonymous.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
    before = portal.api.counts()
    for path, data in [
        (f"/operator/proposals/{pid}/reject", {"reject_reason": "no"}),
        ("/operator/calls", {"title": "x"}),
        (f"/operator/users/{portal.api.user_id('anna')}/roles", {"role": "is_operator", "value": "1"}),
    ]:
        assert anna.post(path, data).status_code == 403, path
    assert portal.api.counts() == before


def test_every_operator_page_renders_for_the_operator(portal: Portal) -> None:
    web = portal.browser("operator")
    for path in PAGES[:-1]:
        r = web.get(path)
        assert r.status_code == 200, (path, r.text[:2000])
        assert 'aria-current="page"' in r.text


def test_pending_lists_proposals_awaiting_a_decision_with_reviews_done_and_required(portal: Portal) -> None:
    page = portal.browser("operator").get("/operator").text
    assert "Foundation model fine-tuning" in page and "World models for autonomous driving" in page
    assert "Short-term grid load" not in page  # accepted: no longer pending
    assert "0 of 1" in page and "0 of 2" in page
    assert page.index("Foundation model") < page.index("World models")  # earlier deadline first


def test_assign_reviewer_then_accept_creates_project_and_allocation(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    pid = api.pid("autonomia")
    page = web.get(f"/operator/proposals/{pid}").text
    assert "Prof. Maria Schulz" in page and "0 of the 2" not in page
    ids = [api.user_id("schulz"), api.user_id("novak")]
    r = web.post(f"/operator/proposals/{pid}/reviewers", {"reviewer_ids": [str(i) for i in ids]})
    assert r.status_code == 303, r.text
    for who in ("schulz", "novak"):
        api.ok(
            "POST",
            f"/proposals/{pid}/reviews",
            who,
            status=201,
            json={
                "scores": {"excellence": 4, "impact": 4, "feasibility": 5},
                "summary": f"ok by {who}",
                "declare_no_conflict": True,
            },
        )
    page = web.get(f"/operator/proposals/{pid}").text
    assert "ok by schulz" in page and "2 of 2" in page
    r = web.post(f"/operator/proposals/{pid}/accept", {"awarded_gpu_hours": "300000", "accept_reason": "Strong."})
    assert r.status_code == 303, r.text
    with api.uow_factory(write=False) as uow:
        p = uow.proposals.get(pid)
        assert p.status is ProposalStatus.ACCEPTED and p.awarded_gpu_hours == 300_000
        project = uow.projects.by_proposal(pid)
        assert project is not None and project.allocations[0].gpu_hours == 300_000


def test_accept_with_bad_numbers_or_missing_reviews_writes_nothing(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    pid = api.pid("medvision")
    before = api.counts()
    r = web.post(f"/operator/proposals/{pid}/accept", {"awarded_gpu_hours": "100"})
    assert r.status_code == 409 and "required reviews are in" in r.text
    assert f'action="/operator/proposals/{pid}/accept"' not in r.text  # not offered until the reviews are in
    r = web.post(f"/operator/proposals/{pid}/reviewers", {"reviewer_ids": "abc"})
    assert r.status_code == 422 and 'id="e-reviewer_ids"' in r.text
    assert web.get("/operator/proposals/999999").status_code == 404
    assert api.counts() == before
    scores = {"excellence": 4, "impact": 4, "feasibility": 4}
    review = {"scores": scores, "declare_no_conflict": True}
    api.ok("POST", f"/proposals/{pid}/reviews", "schulz", status=201, json=review)
    before = api.counts()
    r = web.post(f"/operator/proposals/{pid}/accept", {"awarded_gpu_hours": "lots"})
    assert r.status_code == 422 and 'id="e-awarded_gpu_hours"' in r.text
    assert api.counts() == before


def test_the_page_offers_only_what_the_rules_allow(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    medvision, autonomia, gridwise = api.pid("medvision"), api.pid("autonomia"), api.pid("gridwise")
    schulz, novak = api.user_id("schulz"), api.user_id("novak")
    # autonomia: submitted, no reviews yet: both reviewers offered, Reject offered, Accept waits for 2 reviews
    page = web.get(f"/operator/proposals/{autonomia}").text
    assert f'value="{schulz}"' in page and f'value="{novak}"' in page
    assert f'action="/operator/proposals/{autonomia}/reject"' in page
    assert f'action="/operator/proposals/{autonomia}/accept"' not in page
    assert "Accepting needs the 2 required reviews; 0 are in." in page
    # medvision: Schulz is assigned, Novák remains
    page = web.get(f"/operator/proposals/{medvision}").text
    assert f'value="{novak}"' in page and f'value="{schulz}"' not in page
    # once Novák is assigned too, nobody is left: no form, no button, a sentence instead
    r = web.post(f"/operator/proposals/{medvision}/reviewers", {"reviewer_ids": str(novak)})
    assert r.status_code == 303, r.text
    page = web.get(f"/operator/proposals/{medvision}").text
    assert f'action="/operator/proposals/{medvision}/reviewers"' not in page and ">Assign</button>" not in page
    assert "No other active reviewer without a conflict of interest." in page
    # one review makes the fast lane's Accept available
    scores = {"excellence": 4, "impact": 4, "feasibility": 4}
    review = {"scores": scores, "declare_no_conflict": True}
    api.ok("POST", f"/proposals/{medvision}/reviews", "schulz", status=201, json=review)
    assert f'action="/operator/proposals/{medvision}/accept"' in web.get(f"/operator/proposals/{medvision}").text
    # gridwise is decided: nothing to assign, accept or reject, and no sentence about reviewers either
    page = web.get(f"/operator/proposals/{gridwise}").text
    for action in ("reviewers", "accept", "reject"):
        assert f'action="/operator/proposals/{gridwise}/{action}"' not in page
    assert "No other active reviewer" not in page


def test_reject_needs_a_reason_next_to_the_field_and_writes_nothing(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    pid = api.pid("medvision")
    before = api.counts()
    r = web.post(f"/operator/proposals/{pid}/reject", {"reject_reason": "   "})
    assert r.status_code == 422
    assert re.search(r'id="f-reject_reason"[^>]*aria-invalid="true"', r.text)
    assert 'id="e-reject_reason"' in r.text and "a rejection needs a reason" in r.text
    assert api.counts() == before
    r = web.post(f"/operator/proposals/{pid}/reject", {"reject_reason": "Out of scope."})
    assert r.status_code == 303
    with api.uow_factory(write=False) as uow:
        p = uow.proposals.get(pid)
        assert p.status is ProposalStatus.REJECTED and p.decision_reason == "Out of scope."


def _call_form(portal: Portal, **over: object) -> dict:  # type: ignore[type-arg]
    res = portal.api.info.resource_ids
    with portal.api.uow_factory(write=False) as uow:
        site_id = uow.sites.list_all()[0].id
    return {
        "title": "Spring call",
        "slug": "spring-2026",
        "access_mode": "fast_lane",
        "site_id": str(site_id),
        "opens_on": "2026-03-01",
        "min_gpu_hours": "1",
        "max_gpu_hours": "1000",
        "required_reviews": "1",
        "decision_working_days": "5",
        "max_wall_hours": "24",
        "durations_months": "1, 2",
        "resource_ids": [str(res["booster"])],
        **over,
    }


def test_create_call_with_invalid_numbers_shows_field_errors_and_writes_nothing(portal: Portal) -> None:
    web = portal.browser("operator")
    before = portal.api.counts()
    r = web.post(
        "/operator/calls",
        _call_form(portal, max_gpu_hours="many", required_reviews="-1", durations_months="1, x", opens_on="yesterday"),
    )
    assert r.status_code == 422
    for name in ("max_gpu_hours", "required_reviews", "durations_months", "opens_on"):
        assert f'id="e-{name}"' in r.text, name
    assert 'value="Spring call"' in r.text  # what was typed is kept
    r = web.post("/operator/calls", _call_form(portal, min_gpu_hours="500", max_gpu_hours="100"))
    assert r.status_code == 422 and 'id="e-max_gpu_hours"' in r.text
    assert portal.api.counts() == before


def test_create_call_then_close_it_and_hostile_titles_are_escaped(portal: Portal) -> None:
    web = portal.browser("operator")
    hostile = "<script>alert(1)</script>"
    r = web.post("/operator/calls", _call_form(portal, title=hostile))
    assert r.status_code == 303, r.text
    for path in ("/operator/calls", "/calls", "/operator/audit"):
        page = web.get(path).text
        assert hostile not in page, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in web.get("/operator/calls").text
    with portal.api.uow_factory(write=False) as uow:
        call = uow.calls.by_slug("spring-2026")
    assert web.post(f"/operator/calls/{call.id}/toggle").status_code == 303
    with portal.api.uow_factory(write=False) as uow:
        assert uow.calls.get(call.id).closed is True
    assert "Reopen" in web.get("/operator/calls").text


def test_add_resource_and_refuse_bad_numbers(portal: Portal) -> None:
    web = portal.browser("operator")
    with portal.api.uow_factory(write=False) as uow:
        site_id = uow.sites.list_all()[0].id
    form = {
        "site_id": str(site_id),
        "name": "inference",
        "gpu_model": "H100",
        "nodes": "8",
        "gpus_per_node": "4",
        "cpus_per_node": "64",
        "memory_gb_per_node": "512",
    }
    before = portal.api.counts()
    r = web.post("/operator/resources", {**form, "nodes": "eight", "gpu_billing_weight": "heavy"})
    assert r.status_code == 422 and 'id="e-nodes"' in r.text and 'id="e-gpu_billing_weight"' in r.text
    r = web.post("/operator/resources", {**form, "site_id": "99999"})
    assert r.status_code == 422 and 'id="e-site_id"' in r.text
    assert portal.api.counts() == before
    assert web.post("/operator/resources", form).status_code == 303
    assert "inference" in web.get("/operator/resources").text


def test_role_toggles_change_roles_and_an_operator_cannot_demote_themself(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    anna = api.user_id("anna")
    assert web.post(f"/operator/users/{anna}/roles", {"role": "is_reviewer", "value": "1"}).status_code == 200
    with api.uow_factory(write=False) as uow:
        assert uow.users.get(anna).is_reviewer is False  # the button only asks (test_role_confirmation_web.py)
    confirmed = {"role": "is_reviewer", "value": "1", "confirm": "yes"}
    assert web.post(f"/operator/users/{anna}/roles", confirmed).status_code == 303
    with api.uow_factory(write=False) as uow:
        assert uow.users.get(anna).is_reviewer is True
    assert "Anna Petersen" in web.get("/operator/users?role=reviewer").text
    me = api.user_id("operator")
    assert web.post(f"/operator/users/{me}/roles", {"role": "is_operator", "value": "0"}).status_code == 409
    assert web.post(f"/operator/users/{anna}/roles", {"role": "is_admin", "value": "1"}).status_code == 422
    assert web.get("/operator/users?offset=abc").status_code == 200


def test_kpi_dashboard_matches_the_reports(portal: Portal, charged: None) -> None:
    web = portal.browser("operator")
    r = web.get("/operator/kpis?start=2026-01&end=2026-12")
    assert r.status_code == 200
    page = r.text
    assert page.count("<svg") >= 7 and 'class="kpis"' in page and "<details>" in page
    with portal.api.uow_factory(write=False) as uow:
        op = Actor(uow.users.by_email("operator@jaif.example"))
        total = reports.gpu_hours_by(uow, op, "month", start="2026-01", end="2026-12").total_gpu_hours
        served = reports.smes_served(uow, op, "2026-01", "2026-12").total
        decision = reports.time_to_decision(uow, op)[-1].median_days
    assert total == 6.5 and served == 2
    headline = re.findall(r'<span class="value">([^<]*)</span>', page)
    assert headline[0] == "6.5 GPU-hours" and headline[1] == str(served)
    assert headline[2] == f"{decision:,.1f}"
    assert "GPU-hours by sector" in page and "Energy and climate" in page and "Utilization per resource" in page


def test_kpi_period_is_validated_with_clear_errors(portal: Portal) -> None:
    web = portal.browser("operator")
    r = web.get("/operator/kpis?start=2026-13&end=2026-01")
    assert r.status_code == 422 and 'id="e-start"' in r.text and "<svg" not in r.text
    r = web.get("/operator/kpis?start=2026-05&end=2026-01")
    assert r.status_code == 422 and 'id="e-end"' in r.text
    assert web.get("/operator/kpis.csv?dimension=colour").status_code == 422
    assert web.get("/operator/kpis.csv?dimension=month&start=20").status_code == 422


def test_kpi_csv_has_header_rows_and_escapes_formulas(portal: Portal, charged: None) -> None:
    api, web = portal.api, portal.browser("operator")
    with api.uow_factory() as uow:
        uow.projects.by_proposal(api.pid("gridwise")).name = "=cmd|' /C calc'!A0"
        uow.commit()
    r = web.get("/operator/kpis.csv?dimension=project&start=2026-01&end=2026-12")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["project", "label", "gpu_hours", "entries"]
    labels = {row[1]: row[2] for row in rows[1:]}
    assert labels["'=cmd|' /C calc'!A0"] == "3.0"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    month = list(csv.reader(io.StringIO(web.get("/operator/kpis.csv?dimension=month&start=2026-01&end=2026-12").text)))
    assert month == [
        ["month", "label", "gpu_hours", "entries"],
        ["2026-03", "2026-03", "5.0", "2"],
        ["2026-04", "2026-04", "1.5", "1"],
    ]
    util = list(csv.reader(io.StringIO(web.get("/operator/kpis.csv?dimension=utilization").text)))
    assert util[0][:2] == ["resource_id", "resource"] and len(util) == 3


def tbody(html: str) -> str:
    return html[html.index("<tbody>") : html.index("</tbody>")]


def test_audit_filters_narrow_the_log_and_bad_filters_are_explained(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    everything = tbody(web.get("/operator/audit").text)
    assert "proposal.accepted" in everything and "call.created" in everything
    calls_only = tbody(web.get("/operator/audit?entity_type=call").text)
    assert "call.created" in calls_only and "proposal.accepted" not in calls_only
    by_action = tbody(web.get("/operator/audit?action=proposal.submitted&actor=anna@backhaus-kiel.example").text)
    assert "proposal.submitted" in by_action and "Anna Petersen" in by_action and "Claire Martin" not in by_action
    pid = api.pid("gridwise")
    one = tbody(web.get(f"/operator/audit?entity_type=proposal&entity_id={pid}").text)
    assert one.count("<tr>") < everything.count("<tr>") and "proposal.accepted" in one
    assert "No events match." in web.get("/operator/audit?since=2030-01-01").text
    assert "No events match." not in web.get("/operator/audit?since=2026-03-02&until=2026-03-02").text
    r = web.get("/operator/audit?entity_id=x&since=not-a-date&actor=nobody@nowhere.example")
    assert r.status_code == 422
    for name in ("entity_id", "since", "actor"):
        assert f'id="e-{name}"' in r.text, name
    assert web.get("/operator/audit?offset=-5").status_code == 200


def test_audit_log_is_paged_newest_first(portal: Portal) -> None:
    api, web = portal.api, portal.browser("operator")
    with api.uow_factory() as uow:  # enough events for two pages
        op, anna = Actor(uow.users.by_email("operator@jaif.example")), api.user_id("anna")
        for i in range(60):
            identity.set_roles(uow, api.clock, op, anna, is_reviewer=i % 2 == 0)
    first = web.get("/operator/audit").text
    assert 'rel="next"' in first
    second = web.get("/operator/audit?offset=50").text
    assert 'rel="prev"' in second
    ids_first = re.findall(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d UTC)</td>", first)
    assert ids_first == sorted(ids_first, reverse=True)


def test_operator_pages_in_german(portal: Portal) -> None:
    web = portal.browser("operator")
    web.client.cookies.set("aif_lang", "de")
    for path in PAGES[:-1]:
        r = web.get(path)
        assert r.status_code == 200 and 'lang="de"' in r.text, path
    assert "Kennzahlen" in web.get("/operator/kpis").text


def test_the_kpi_cache_computes_a_cold_period_once_and_serves_stale_figures_while_refreshing(monkeypatch) -> None:
    import threading
    import time

    from aifactory.web.routes import operator_kpis

    calls: list[str] = []

    def slow_load(_viewer, start, end):  # type: ignore[no-untyped-def]
        calls.append(start)
        time.sleep(0.2)
        return {"n": len(calls)}

    monkeypatch.setattr(operator_kpis, "_load", slow_load)
    cache = operator_kpis.ReportCache(ttl=60)

    def at_once(n: int) -> list[dict]:
        results: list[dict] = []
        threads = [
            threading.Thread(target=lambda: results.append(cache.get(None, "2026-01", "2026-12"))) for _ in range(n)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    results = at_once(8)
    assert calls == ["2026-01"] and results == [{"n": 1}] * 8  # eight waiting requests, one computation
    key = ("2026-01", "2026-12")  # made stale: one request refreshes, the others get the previous figures
    cache.entries[key] = (time.monotonic() - 120, cache.entries[key][1])
    results = at_once(4)
    assert len(calls) == 2 and {"n": 2} in results and all(r in ({"n": 1}, {"n": 2}) for r in results)
