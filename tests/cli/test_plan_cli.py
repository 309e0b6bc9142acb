"""A call's own questions through the CLI against a live server: an operator sets them, an applicant answers,
attaches a PDF and checks the draft; a reviewer declares a conflict of interest."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import BAKERY, OPERATOR, REVIEWER, Cli
from tests.support.live import LiveServer


def test_operator_sets_questions_applicant_answers_and_attaches(
    live_cli: Cli, live: LiveServer, tmp_path: Path
) -> None:
    cli = live_cli
    call = live.info.call_ids["playground"]
    shown = cli("calls", "update", call, "--questions", "work_plan!,milestones,attachment!", as_=OPERATOR).stdout
    assert "work_plan (required), milestones, attachment (required)" in shown
    p = cli.json(
        "proposals",
        "create",
        "--call",
        call,
        "--title",
        "Rye bread",
        "--abstract",
        "Forecast rye bread demand for twelve branches.",
        "--gpu-hours",
        "100",
        "--months",
        "2",
        "--resource",
        live.info.resource_ids["develop"],
        as_=BAKERY,
    )
    out = cli("proposals", "check", p["id"], as_=BAKERY, code=1).stdout
    assert "answers.work_plan" in out and "answers.attachment" in out and "plan" in out
    cli("proposals", "answer", p["id"], "work_plan", "Collect, train, compare.", as_=BAKERY)
    cli("proposals", "answer", p["id"], "milestones", "--milestone", "1: data in", "--milestone", "2:model", as_=BAKERY)
    assert (
        "MONTH:TEXT"
        in cli("proposals", "answer", p["id"], "milestones", "--milestone", "later", as_=BAKERY, code=2).stderr
    )
    text = tmp_path / "notes.pdf"
    text.write_text("not really a pdf", encoding="utf-8")
    assert "not a PDF" in cli.fails("proposals", "attach", p["id"], "attachment", text, as_=BAKERY)
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert "plan.pdf attached" in cli("proposals", "attach", p["id"], "attachment", pdf, as_=BAKERY).stdout
    got = cli.json("proposals", "show", p["id"], as_=BAKERY)
    assert got["answers"]["milestones"] == [{"month": 1, "title": "data in"}, {"month": 2, "title": "model"}]
    assert [a["filename"] for a in got["attachments"]] == ["plan.pdf"]
    assert "ready to submit" in cli("proposals", "check", p["id"], as_=BAKERY).stdout
    cli("calls", "update", call, "--questions", "none", as_=OPERATOR)
    assert cli.json("calls", "show", call, as_=OPERATOR)["questions"] == []


def test_a_reviewer_declares_a_conflict_and_cannot_score(live_cli: Cli, live: LiveServer) -> None:
    pid = live.info.proposal_ids["medvision"]
    err = live_cli.fails(
        "reviews", "submit", pid, "--excellence", "4", "--impact", "4", "--feasibility", "4", as_=REVIEWER
    )
    assert "declare your interests first" in err
    out = live_cli("reviews", "declare", pid, "--conflict", "I consulted for MedVision in 2025.", as_=REVIEWER).stdout
    assert "you are recused" in out
    err = live_cli.fails(
        "reviews",
        "submit",
        pid,
        "--excellence",
        "4",
        "--impact",
        "4",
        "--feasibility",
        "4",
        "--no-conflict",
        as_=REVIEWER,
    )
    assert "403" in err and "conflict of interest" in err
