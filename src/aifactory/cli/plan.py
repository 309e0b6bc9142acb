"""``aifactory proposals answer|attach|check``: what a call asks beyond the standard fields (work plan,
milestones, readiness, a PDF...), and what a draft still lacks before it can be submitted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from ..domain.attachments import PDF_MAGIC
from .output import Col, done, show_rows
from .state import CliError, api

ProposalId = Annotated[int, typer.Argument(help="proposal id")]
Key = Annotated[str, typer.Argument(help="the question's key (see `aifactory calls show CALL`)")]
MILESTONE = re.compile(r"^\s*(\d{1,2})\s*[:=]\s*(.+)$")
PROBLEM_COLS = [Col("Section", "section"), Col("Field", "field"), Col("What is missing or wrong", "message", wrap=True)]


def answer(
    proposal_id: ProposalId,
    key: Key,
    text: Annotated[str | None, typer.Argument(help="the answer (text, or one of a choice's options)")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", exists=True, dir_okay=False, help="read a text answer from this file")
    ] = None,
    milestone: Annotated[
        list[str] | None,
        typer.Option("--milestone", metavar="MONTH:TEXT", help="a milestone, e.g. '3: model trained'; repeat"),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="remove the answer")] = False,
) -> None:
    """Answer one of the call's questions on a draft (text, a choice, milestones), or --clear it."""
    given = [x for x in (text, file, milestone) if x]
    if len(given) + clear != 1:
        raise typer.BadParameter("give exactly one of TEXT, --file, --milestone (repeatable) or --clear")
    value: Any = None
    if milestone:
        value = [_milestone(m) for m in milestone]
    elif file is not None:
        value = file.read_text(encoding="utf-8")
    elif text is not None:
        value = text
    p = api().edit_proposal(proposal_id, {"answers": {key: value}})
    done(p, f"Proposal {proposal_id}: answer to {key!r} {'removed' if clear else 'saved'}")


def _milestone(text: str) -> dict[str, Any]:
    m = MILESTONE.match(text)
    if m is None:
        raise typer.BadParameter(f"{text!r}: write MONTH:TEXT, e.g. '3: model trained'", param_hint="--milestone")
    return {"month": int(m.group(1)), "title": m.group(2).strip()}


def attach(
    proposal_id: ProposalId,
    key: Key,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the PDF file")],
) -> None:
    """Attach the PDF one of the call's questions asks for (replaces an earlier one)."""
    data = path.read_bytes()
    if not data.startswith(PDF_MAGIC):  # the server checks it too; this saves sending the file
        raise CliError(f"{path}: not a PDF file (only PDF files can be attached)")
    a = api().attach(proposal_id, key, data, path.name)
    done(a, f"Proposal {proposal_id}: {a['filename']} attached as {key!r} ({a['size_bytes']:,} bytes)")


def check(proposal_id: ProposalId) -> None:
    """What the draft still lacks before it can be submitted (exit code 1 if anything)."""
    found = api().check_proposal(proposal_id)
    waiting = {
        "partner_consent": "a partner organization has not confirmed yet (its admin is asked when you submit)",
        "verified_email": "your e-mail address is not verified yet",
    }
    notes = [waiting.get(w, w) for w in found["waiting_for"]]
    if found["ready"] and not notes:
        done(found, f"Proposal {proposal_id} is ready to submit")
        return
    rows = [{**x, "section": x["section"] or "whole proposal"} for x in found["problems"]]
    show_rows(rows, PROBLEM_COLS, title=f"Proposal {proposal_id}: before you can submit", extra=notes)
    raise typer.Exit(1)
