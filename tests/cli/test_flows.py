"""The access workflow through the CLI, over HTTP: an applicant from registration to an allocation,
an operator with a reviewer from submission to a decision, and what bad input looks like."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aifactory.demo import DemoInfo
from tests.support.accounts import mark_verified
from tests.support.cli import BAKERY, OPERATOR, REVIEWER, Cli
from tests.support.live import LiveServer


def _open_call(cli: Cli, mode: str) -> dict:
    (call,) = cli.json("calls", "list", "--open", "--mode", mode, as_=OPERATOR)["items"]
    return call


def _booster(cli: Cli) -> int:
    (site,) = cli.json("sites", "list", as_=OPERATOR)
    return next(r["id"] for r in site["resources"] if r["name"] == "booster")


def _draft(cli: Cli, mode: str, gpu_hours: int, *extra: str, as_: str = BAKERY) -> dict:
    return cli.json(
        "proposals",
        "create",
        "--call",
        _open_call(cli, mode)["id"],
        "--title",
        "Sourdough forecasting",
        "--abstract",
        "Forecast sourdough demand per branch from sales and weather.",
        "--field",
        "food",
        "--gpu-hours",
        gpu_hours,
        "--resource",
        _booster(cli),
        "--months",
        "2",
        *extra,
        as_=as_,
    )


def test_applicant_flow_register_draft_edit_submit_autoaccept_project_allocation(
    live_cli: Cli, live: LiveServer, tmp_path: Path, seeded_url: tuple[str, DemoInfo]
) -> None:
    cli = live_cli
    cli(
        "register",
        "--url",
        live.url,
        "--org-name",
        "Brotzeit Bäckerei",
        "--kind",
        "sme",
        "--country",
        "DE",
        "--email",
        "berta@brotzeit.example",
        "--name",
        "Berta Brot",
    )
    mark_verified(seeded_url[0], "berta@brotzeit.example")  # Berta opened the link e-mailed at sign-up
    call, resource = _open_call(cli, "playground"), _booster(cli)
    partner = cli.json("orgs", "list", "--q", "Forschungszentrum Nord")["items"][0]["id"]  # its exact name

    draft = cli.json(
        "proposals",
        "create",
        "--call",
        call["id"],
        "--title",
        "Bake less waste",
        "--field",
        "food",
        "--gpu-hours",
        "400",
        "--resource",
        resource,
        "--months",
        "2",
        "--partner",
        partner,
        "--team",
        "Lars Jensen <lars@fz-nord.example> ML advisor",
    )
    assert draft["status"] == "draft" and draft["partner_organization_ids"] == [partner]
    assert draft["team"] == [{"name": "Lars Jensen", "email": "lars@fz-nord.example", "role": "ML advisor"}]

    body = tmp_path / "edit.yaml"
    body.write_text(
        "abstract: Daily demand forecasts per product group to cut unsold bread.\nrequested_gpu_hours: 900\n"
    )
    edited = cli.json("proposals", "edit", draft["id"], "--file", body, "--gpu-hours", "600")
    assert edited["requested_gpu_hours"] == 600 and edited["abstract"].startswith("Daily demand")

    waiting = cli.fails("proposals", "submit", draft["id"])  # the partner's admin is asked first
    assert waiting.startswith("error: 409") and "Forschungszentrum Nord (requested)" in waiting
    lars = {"as_": "lars@fz-nord.example"}
    (asked,) = [c for c in cli.json("orgs", "consents", **lars) if c["proposal_id"] == draft["id"]]
    assert "partnership confirmed" in cli("orgs", "consent", asked["id"], "--confirm", **lars).stdout
    out = cli("proposals", "submit", draft["id"]).stdout
    assert f"Proposal {draft['id']} accepted: 600 GPU-hours" in out
    assert cli.json("proposals", "show", draft["id"])["status"] == "accepted"

    projects = cli("projects", "list").stdout
    assert "Bake less waste" in projects
    (project,) = cli.json("projects", "list")["items"]
    allocations = cli.json("allocations", "list", "--project", project["id"])["items"]
    assert [(a["gpu_hours"], a["status"], a["resource_id"]) for a in allocations] == [(600, "active", resource)]
    assert "600" in cli("allocations", "show", allocations[0]["id"]).stdout
    shown = cli("projects", "show", project["id"]).stdout
    assert "Members" in shown and "pi" in shown and project["slurm_account"] in shown


def test_operator_flow_assign_review_decide(live_cli: Cli, tmp_path: Path) -> None:
    cli = live_cli
    p = _draft(cli, "fast_lane", 5000)
    # the fast lane asks a work plan and the data's state: the check says so, in the plan section
    assert "answers.work_plan" in cli("proposals", "check", p["id"], as_=BAKERY, code=1).stdout
    plan = tmp_path / "plan.txt"
    plan.write_text("Weeks 1-2: features from two years of sales. Weeks 3-8: train and compare.", encoding="utf-8")
    cli("proposals", "answer", p["id"], "work_plan", "--file", plan, as_=BAKERY)
    err = cli.fails("proposals", "answer", p["id"], "data_readiness", "soon", as_=BAKERY)
    assert "answers.data_readiness" in err and "Ready and accessible" in err
    cli("proposals", "answer", p["id"], "data_readiness", "Ready and accessible", as_=BAKERY)
    assert "ready to submit" in cli("proposals", "check", p["id"], as_=BAKERY).stdout
    submitted = cli.json("proposals", "submit", p["id"], as_=BAKERY)
    assert submitted["status"] == "submitted" and submitted["decision_deadline"]

    reviewer = next(
        u for u in cli.json("users", "list", "--role", "reviewer", as_=OPERATOR)["items"] if u["email"] == REVIEWER
    )
    assigned = cli.json("reviews", "assign", p["id"], "--reviewer", reviewer["id"], as_=OPERATOR)
    assert [a["reviewer_id"] for a in assigned] == [reviewer["id"]]

    queue = cli("reviews", "queue", as_=REVIEWER).stdout
    assert "Sourdough forecasting" in queue and "under_review" in queue
    review = cli.json(
        "reviews",
        "submit",
        p["id"],
        "--excellence",
        "4",
        "--impact",
        "5",
        "--feasibility",
        "3",
        "--comment",
        "impact=Less waste, less CO2.",
        "--summary",
        "Sound plan.",
        "--no-conflict",
        as_=REVIEWER,
    )
    assert review["scores"] == {"excellence": 4, "impact": 5, "feasibility": 3} and review["mean_score"] == 4.0
    assert "Less waste" in cli("reviews", "list", p["id"], as_=OPERATOR).stdout

    err = cli.fails("decide", p["id"], "accept", "--gpu-hours", "6000", as_=OPERATOR)
    assert err == "error: 422 Invalid input: awarded_gpu_hours: 6000 exceeds the 5000 GPU-hours requested"
    out = cli("decide", p["id"], "accept", "--gpu-hours", "3000", "--reason", "Good value.", as_=OPERATOR).stdout
    assert f"Proposal {p['id']} accepted" in out
    decided = cli.json("proposals", "show", p["id"], as_=BAKERY)
    assert decided["status"] == "accepted" and decided["awarded_gpu_hours"] == 3000
    assert cli.json("reviews", "list", p["id"], as_=BAKERY)[0]["reviewer_id"] is None  # anonymous to applicants

    events = cli.json("audit", "--entity-type", "proposal", "--entity-id", p["id"], as_=OPERATOR)["items"]
    assert {"proposal.created", "proposal.submitted", "proposal.accepted"} <= {e["action"] for e in events}


def _answer_fast_lane(cli: Cli, proposal_id: int) -> None:
    """What the demo's fast lane asks beyond the basics: a work plan and the state of the data."""
    cli("proposals", "answer", proposal_id, "work_plan", "Weeks 1-4: features; weeks 5-8: train.", as_=BAKERY)
    cli("proposals", "answer", proposal_id, "data_readiness", "Partly available", as_=BAKERY)


def test_operator_rejects_with_a_reason_and_applicant_withdraws(live_cli: Cli) -> None:
    cli = live_cli
    p = _draft(cli, "fast_lane", 5000)
    _answer_fast_lane(cli, p["id"])
    cli("proposals", "submit", p["id"], as_=BAKERY)
    err = cli.fails("decide", p["id"], "reject", as_=OPERATOR)
    assert err == "error: 422 Invalid input: reason: a rejection needs a reason"
    assert cli.json("decide", p["id"], "reject", "--reason", "Out of scope.", as_=OPERATOR)["status"] == "rejected"

    other = _draft(cli, "fast_lane", 5000)
    assert "withdrawn" in cli("proposals", "withdraw", other["id"], as_=BAKERY).stdout


def test_proposal_list_shows_status_deadline_due_and_ethics(live_cli: Cli, live: LiveServer) -> None:
    out = live_cli("proposals", "list", as_=OPERATOR).stdout
    for text in (
        "Foundation model fine-tuning",
        "under_review",
        "on_track",
        "risk:high",
        "health_data",
        "accepted",
        "draft",
        "1–5 of 5",
    ):
        assert text in out
    everything = live_cli.json("proposals", "list", "--all", as_=OPERATOR)
    assert len(everything) == 5
    only = live_cli.json("proposals", "list", "--status", "draft", "--json", as_=OPERATOR)  # --json after the command
    assert [p["id"] for p in only["items"]] == [live.info.proposal_ids["juelich"]]


def test_ethics_options_and_file_body(live_cli: Cli, tmp_path: Path) -> None:
    body = tmp_path / "proposal.json"
    body.write_text(
        '{"title": "Triage model", "abstract": "Prioritise urgent radiographs for review.", '
        '"ethics": {"notes": "DPIA done"}}'
    )
    p = live_cli.json(
        "proposals",
        "create",
        "--file",
        body,
        "--call",
        _open_call(live_cli, "fast_lane")["id"],
        "--gpu-hours",
        "1000",
        "--resource",
        _booster(live_cli),
        "--months",
        "1",
        "--risk-category",
        "high",
        "--personal-data",
        "--health-data",
        as_=BAKERY,
    )
    assert p["title"] == "Triage model"
    assert {k: p["ethics"][k] for k in ("risk_category", "personal_data", "health_data", "dual_use", "notes")} == {
        "risk_category": "high",
        "personal_data": True,
        "health_data": True,
        "dual_use": False,
        "notes": "DPIA done",
    }
    assert "risk:high" in p["ethics"]["flags"]


@pytest.mark.parametrize("json_first", [True, False])
def test_json_output_is_parseable_for_every_listing(live_cli: Cli, json_first: bool) -> None:
    for args in (
        ["orgs", "list"],
        ["calls", "list"],
        ["sites", "list"],
        ["users", "list"],
        ["tokens", "list"],
        ["proposals", "list"],
        ["projects", "list"],
        ["allocations", "list"],
        ["audit", "--limit", "3"],
        ["reviews", "queue"],
        ["whoami"],
    ):
        argv = ["--json", *args] if json_first else [*args, "--json"]
        data = json.loads(live_cli(*argv, as_=OPERATOR).stdout)
        assert isinstance(data, list) or "items" in data or "email" in data


def test_gpu_hours_over_the_call_maximum_is_refused_at_submission(live_cli: Cli) -> None:
    p = _draft(live_cli, "playground", 5000)
    err = live_cli.fails("proposals", "submit", p["id"], as_=BAKERY)
    assert err.startswith("error: 422 Invalid input: the proposal cannot be submitted yet")
    assert "requested_gpu_hours: 5000 is outside this call's range 1–2000" in err


def test_deciding_a_draft_is_a_conflict(live_cli: Cli, live: LiveServer) -> None:
    err = live_cli.fails("decide", live.info.proposal_ids["juelich"], "accept", as_=OPERATOR)
    assert err == "error: 409 Conflict: cannot accept a proposal that is draft (allowed: edit, submit, withdraw)"


def test_accepting_before_the_required_reviews_is_a_conflict(live_cli: Cli, live: LiveServer) -> None:
    err = live_cli.fails("decide", live.info.proposal_ids["autonomia"], "accept", as_=OPERATOR)
    assert err == "error: 409 Conflict: 0 of the 2 required reviews are in; wait for the rest"


def test_applicants_cannot_see_other_organizations_proposals(live_cli: Cli, live: LiveServer) -> None:
    err = live_cli.fails("proposals", "show", live.info.proposal_ids["medvision"], as_=BAKERY)
    assert err == f"error: 404 Not found: proposal {live.info.proposal_ids['medvision']} not found"


@pytest.mark.parametrize(
    "args",
    [
        ["calls", "update", "1", "--durations", "1,x"],
        ["proposals", "create", "--team", "no email here"],
        ["reviews", "submit", "1", "--excellence", "9", "--impact", "1", "--feasibility", "1"],
        ["reviews", "submit", "1", "--excellence", "3", "--impact", "1", "--feasibility", "1", "--comment", "nokey"],
        ["decide", "1", "maybe"],
        ["proposals", "edit", "1"],
        ["projects", "add-member", "1"],
    ],
)
def test_usage_errors_exit_2_before_any_request(cli: Cli, args: list[str]) -> None:
    result = cli(*args, code=2, AIFACTORY_URL="http://127.0.0.1:9", AIFACTORY_TOKEN="aif_x")
    assert "cannot reach" not in result.output


def test_operator_manages_sites_calls_users_and_members(live_cli: Cli, live: LiveServer) -> None:
    cli = live_cli
    site = cli.json(
        "sites",
        "create",
        "--slug",
        "hammerhai",
        "--name",
        "HammerHAI",
        "--country",
        "DE",
        "--holiday-subdivision",
        "BW",
        as_=OPERATOR,
    )
    res = cli.json(
        "sites",
        "add-resource",
        site["id"],
        "--name",
        "gpu",
        "--nodes",
        "8",
        "--gpus-per-node",
        "4",
        "--cpus-per-node",
        "64",
        "--memory-gb-per-node",
        "512",
        "--gpu-model",
        "H100",
        as_=OPERATOR,
    )
    call = cli.json(
        "calls",
        "create",
        "--slug",
        "hai-play",
        "--title",
        "HammerHAI playground",
        "--mode",
        "playground",
        "--site",
        site["id"],
        "--opens-on",
        "2026-01-01",
        "--max-gpu-hours",
        "500",
        "--resources",
        res["id"],
        "--durations",
        "1,2",
        "--kinds",
        "sme,startup",
        "--countries",
        "DE",
        "--auto-approve",
        "100",
        "--cutoffs",
        "",
        "--reviews",
        "0",
        as_=OPERATOR,
    )
    assert call["durations_months"] == [1, 2] and call["eligible_kinds"] == ["sme", "startup"]
    updated = cli.json("calls", "update", call["id"], "--max-gpu-hours", "800", "--closed", as_=OPERATOR)
    assert updated["max_gpu_hours"] == 800 and updated["closed"] is True and updated["is_open"] is False
    assert "HammerHAI playground" in cli("calls", "show", call["id"], as_=OPERATOR).stdout

    created = cli.json(
        "users",
        "create",
        "--email",
        "max@backhaus-kiel.example",
        "--name",
        "Max Mehl",
        "--org",
        live.info.org_ids["Backhaus Kiel GmbH"],
        as_=BAKERY,
    )
    assert created["token"]["token"].startswith("aif_")
    user_id = created["user"]["id"]
    assert cli.json("users", "roles", user_id, "--reviewer", as_=OPERATOR)["is_reviewer"] is True

    project = live.info.proposal_ids["bakery"]
    (proj,) = [p for p in cli.json("projects", "list", as_=BAKERY)["items"] if p["proposal_id"] == project]
    invited = cli.json("projects", "add-member", proj["id"], "--email", "max@backhaus-kiel.example", as_=BAKERY)
    assert invited["email"] == "max@backhaus-kiel.example" and invited["accepted_at"] is None  # by e-mail: invited
    member = cli.json("projects", "add-member", proj["id"], "--user", user_id, as_=BAKERY)
    assert member["user_id"] == user_id and member["role"] == "member"
    assert "removed" in cli("projects", "remove-member", proj["id"], user_id, as_=BAKERY).stdout
    err = cli.fails("projects", "remove-member", proj["id"], user_id, as_=BAKERY)
    assert err.startswith("error: 404")


def test_applicants_cannot_use_operator_commands(live_cli: Cli) -> None:
    err = live_cli.fails("audit", as_=BAKERY)
    assert err.startswith("error: 403 Forbidden:")


def test_adding_a_colleague_by_email_invites_them(live_cli: Cli) -> None:
    (project,) = live_cli.json("projects", "list", as_=BAKERY)["items"]
    out = live_cli("projects", "add-member", project["id"], "--email", "new.baker@backhaus-kiel.example", as_=BAKERY)
    assert "Invitation" in out.stdout and "sent to new.baker@backhaus-kiel.example" in out.stdout
    err = live_cli.fails("projects", "add-member", project["id"], "--user", "999", as_=BAKERY)
    assert err.startswith("error: 403") and "no such user" not in err


def test_create_with_submit_submits_at_once_and_keeps_a_refused_draft(live_cli: Cli) -> None:
    accepted = _draft(live_cli, "playground", 500, "--submit")
    assert accepted["status"] == "accepted" and accepted["awarded_gpu_hours"] == 500
    call, booster = _open_call(live_cli, "playground")["id"], _booster(live_cli)
    err = live_cli.fails(
        *("proposals", "create", "--call", call, "--title", "Too short", "--abstract", "short", "--field", "food"),
        *("--gpu-hours", 100, "--resource", booster, "--months", 1, "--submit"),
        as_=BAKERY,
    )
    assert err.startswith("error: draft ") and "created but not submitted" in err and "abstract" in err
    draft_id = int(err.split()[2])
    assert live_cli.json("proposals", "show", draft_id, as_=BAKERY)["status"] == "draft"
