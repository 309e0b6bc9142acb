"""The call's own questions on the portal: what a page shows of the answers (``plan_view``), and reading the
plan step's posted form into answers (``parse_plan``). The wording comes from the call (domain.questions), in
the reader's language where the call gives it."""

from __future__ import annotations

import re
from typing import Any

from ..domain.attachments import ProposalAttachment
from ..domain.errors import FieldError, InvalidInput
from ..domain.questions import MAX_MILESTONES, Question, QuestionKind
from .formats import bytes_text
from .i18n import Translator

MILESTONE_ROWS = 3  # empty rows offered after the last milestone
MONTH = re.compile(r"[0-9]{1,2}")


def question_view(q: Question, lang: str) -> dict[str, Any]:
    """A question as pages show it: its wording in ``lang``, whether it is required, what it takes (characters,
    options as (stored value, label), a PDF's largest size)."""
    return {
        "key": q.key,
        "kind": q.kind.value,
        "title": q.title_in(lang),
        "help": q.help_in(lang),
        "required": q.required,
        "max_chars": q.max_chars,
        "max_size": bytes_text(q.max_bytes, lang),
        "options": q.options_in(lang),
    }


def plan_view(
    questions: list[Question], answers: dict[str, Any], files: list[ProposalAttachment], proposal_id: int, lang: str
) -> list[dict[str, Any]]:
    """One entry per question: its wording in ``lang`` and the answer as a page shows it."""
    by_key = {a.key: a for a in files}
    out = []
    for q in questions:
        entry: dict[str, Any] = {**question_view(q, lang), "answer": answers.get(q.key), "label": "", "file": None}
        if q.kind is QuestionKind.CHOICE:
            entry["label"] = dict(q.options_in(lang)).get(str(answers.get(q.key, "")), "")
        if q.kind is QuestionKind.ATTACHMENT and q.key in by_key:
            a = by_key[q.key]
            entry["file"] = {
                "name": a.filename,
                "size": bytes_text(a.size_bytes, lang),
                "sha256": a.sha256,
                "url": f"/proposals/{proposal_id}/attachments/{q.key}",
            }
        out.append(entry)
    return out


def plan_values(questions: list[Question], answers: dict[str, Any]) -> dict[str, str]:
    """The plan step's form fields filled from the stored answers."""
    values: dict[str, str] = {}
    for q in questions:
        given = answers.get(q.key)
        if q.kind is QuestionKind.MILESTONES:
            for i, m in enumerate(given or []):
                values[f"answers.{q.key}.{i}.month"] = str(m.get("month", ""))
                values[f"answers.{q.key}.{i}.title"] = str(m.get("title", ""))
        elif q.kind is not QuestionKind.ATTACHMENT:
            values[f"answers.{q.key}"] = str(given or "")
    return values


def milestone_rows(questions: list[Question], values: dict[str, str]) -> dict[str, range]:
    """How many milestone rows each milestones question shows: those filled in and a few empty ones."""
    rows = {}
    for q in questions:
        if q.kind is QuestionKind.MILESTONES:
            prefix = f"answers.{q.key}."
            filled = [int(k.split(".")[2]) for k, v in values.items() if k.startswith(prefix) and v.strip()]
            rows[q.key] = range(min(MAX_MILESTONES, max(filled or [-1]) + 1 + MILESTONE_ROWS))
    return rows


def parse_plan(questions: list[Question], form: dict[str, str], t: Translator) -> dict[str, Any]:
    """``{"answers": {...}}`` from the plan step's form (an empty field removes an answer); InvalidInput naming
    every field that cannot be read. What the answers must be is the service's to check."""
    errs: list[FieldError] = []
    answers: dict[str, Any] = {}
    for q in questions:
        name = f"answers.{q.key}"
        if q.kind is QuestionKind.MILESTONES:
            answers[q.key] = _milestones(q, form, errs, t)
        elif q.kind is not QuestionKind.ATTACHMENT:
            answers[q.key] = form.get(name, "").strip() or None
    if errs:
        raise InvalidInput(t.gettext("Please correct the marked fields."), errs)
    return {"answers": answers}


def _milestones(q: Question, form: dict[str, str], errs: list[FieldError], t: Translator) -> list[dict[str, Any]]:
    rows = []
    for i in range(MAX_MILESTONES):
        month = form.get(f"answers.{q.key}.{i}.month", "").strip()
        title = form.get(f"answers.{q.key}.{i}.title", "").strip()
        if not month and not title:
            continue
        if not MONTH.fullmatch(month):
            errs.append(FieldError(f"answers.{q.key}.{i}.month", t.gettext("enter the project month, e.g. 3")))
            continue
        rows.append({"month": int(month), "title": title})
    return rows
