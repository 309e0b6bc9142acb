"""A call's own questions (domain.questions) and the readiness check (domain.proposal_checks)."""

from __future__ import annotations

import pytest

from aifactory.domain.errors import InvalidInput
from aifactory.domain.proposal_checks import section_of
from aifactory.domain.questions import PRESETS, Answers, Question, QuestionKind, build_questions, missing_answers


def test_a_standard_question_by_its_key_keeps_its_wording_and_takes_overrides() -> None:
    (plan, own) = build_questions(
        [
            {"key": "work_plan", "required": True, "max_chars": 300},
            {"key": "budget", "kind": "text", "title": "Other funding", "title_de": "Weitere Mittel"},
        ]
    )
    assert (plan.title, plan.title_in("de"), plan.required, plan.max_chars) == ("Work plan", "Arbeitsplan", True, 300)
    assert (own.title_in("de"), own.title_in("en"), own.help_in("de")) == ("Weitere Mittel", "Other funding", "")
    assert Question.from_json(plan.to_json()) == plan  # what the store keeps comes back the same


def test_every_problem_of_the_specs_is_named_by_its_place() -> None:
    with pytest.raises(InvalidInput) as exc:
        build_questions(
            [
                {"key": "mine"},
                {"key": "9lives", "kind": "text", "title": "x"},
                {"key": "c", "kind": "choice", "title": "C", "options": ["a", "a"]},
                {"key": "d", "kind": "choice", "title": "D", "options": ["a", "b"], "options_de": ["x"]},
                {"key": "attachment", "max_bytes": 10},
            ],
            max_bytes=1 << 20,
        )
    assert [e.field for e in exc.value.errors] == [
        "questions.0.title",
        "questions.1.key",
        "questions.2.options",
        "questions.3.options_de",
        "questions.4.max_bytes",
    ]


def test_choice_labels_follow_the_readers_language_but_the_stored_value_does_not() -> None:
    q = PRESETS["data_readiness"]
    assert q.options_in("de")[0] == ("Ready and accessible", "Vorhanden und zugänglich")
    assert q.options_in("en")[1] == ("Partly available", "Partly available")


def test_answers_are_merged_checked_and_removed() -> None:
    qs = build_questions([{"key": "work_plan", "max_chars": 20}, {"key": "milestones"}, {"key": "data_readiness"}])
    answers = Answers(qs).merged({}, {"work_plan": " short ", "data_readiness": "Partly available"})
    assert answers == {"work_plan": "short", "data_readiness": "Partly available"}
    assert Answers(qs).merged(answers, {"work_plan": None}) == {"data_readiness": "Partly available"}
    with pytest.raises(InvalidInput) as exc:
        Answers(qs).merged(
            answers,
            {"work_plan": "x" * 21, "data_readiness": "maybe", "milestones": [{"month": 61, "title": ""}], "z": "?"},
        )
    assert {e.field for e in exc.value.errors} == {
        "answers.work_plan",
        "answers.data_readiness",
        "answers.milestones.0.month",
        "answers.milestones.0.title",
        "answers.z",
    }


def test_what_a_submission_still_lacks() -> None:
    qs = build_questions(
        [{"key": "work_plan", "required": True}, {"key": "milestones"}, {"key": "attachment", "required": True}]
    )
    lacking = missing_answers(qs, {"milestones": [{"month": 7, "title": "late"}]}, set(), duration_months=6)
    assert [e.field for e in lacking] == ["answers.work_plan", "answers.milestones", "answers.attachment"]
    assert "upload the PDF" in lacking[2].message
    assert missing_answers(qs, {"work_plan": "ok"}, {"attachment"}, duration_months=6) == []


@pytest.mark.parametrize(
    ("field", "section"),
    [
        ("abstract", "project"),
        ("team-0-email", "team"),
        ("answers.work_plan", "plan"),
        ("attachments.x", "plan"),
        ("risk_category", "ethics"),
        ("organization.kind", None),
        ("requested_gpu_hours", "resources"),
    ],
)
def test_each_field_belongs_to_one_section(field: str, section: str | None) -> None:
    assert section_of(field) == section


def test_kinds_are_the_four_documented() -> None:
    assert [k.value for k in QuestionKind] == ["text", "choice", "milestones", "attachment"]
