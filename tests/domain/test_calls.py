"""Call settings and the eligibility rules enforced at submission."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from aifactory.domain.calls import Call, check_eligibility, clean_texts, text_problems, validate_call_settings
from aifactory.domain.enums import AccessMode, OrgKind
from aifactory.domain.errors import InvalidInput

TODAY = date(2026, 3, 2)


def call(**kw) -> Call:
    base = dict(
        slug="fast-lane",
        title="Fast lane",
        access_mode=AccessMode.FAST_LANE,
        site_id=1,
        opens_on=date(2026, 1, 1),
        max_gpu_hours=50_000,
        resource_ids=[1, 2],
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return Call(**{**base, **kw})


def submission(**kw) -> dict:
    base = dict(org_kind=OrgKind.SME, org_country="DE", gpu_hours=1_000, duration_months=3, resource_id=1, today=TODAY)
    return {**base, **kw}


def fields_of(exc: pytest.ExceptionInfo[InvalidInput]) -> set[str]:
    return {e.field for e in exc.value.errors}


def test_an_eligible_submission_passes():
    check_eligibility(call(eligible_kinds=["sme"], eligible_countries=["DE", "FR"]), **submission())


@pytest.mark.parametrize(
    ("settings", "sub", "field"),
    [
        ({"eligible_kinds": ["academia", "public_sector"]}, {}, "organization.kind"),
        ({"eligible_countries": ["FR", "IT"]}, {}, "organization.country"),
        ({}, {"gpu_hours": 50_001}, "requested_gpu_hours"),
        ({"min_gpu_hours": 100}, {"gpu_hours": 99}, "requested_gpu_hours"),
        ({}, {"gpu_hours": 0}, "requested_gpu_hours"),
        ({}, {"duration_months": 4}, "duration_months"),
        ({}, {"resource_id": 3}, "resource_id"),
        ({"closed": True}, {}, "call"),
        ({"opens_on": date(2026, 3, 3)}, {}, "call"),
        ({"closes_on": date(2026, 3, 1)}, {}, "call"),
    ],
)
def test_each_condition_names_its_field(settings, sub, field):
    with pytest.raises(InvalidInput) as exc:
        check_eligibility(call(**settings), **submission(**sub))
    assert fields_of(exc) == {field}


def test_the_messages_say_what_is_allowed():
    with pytest.raises(InvalidInput) as exc:
        check_eligibility(
            call(eligible_kinds=["academia"], eligible_countries=["FR"], durations_months=[3, 6]),
            **submission(duration_months=12),
        )
    text = str(exc.value)
    assert "'sme' organizations are not eligible (allowed: academia)" in text
    assert "organizations from DE are not eligible (allowed: FR)" in text
    assert "choose one of 3, 6" in text


def test_all_problems_are_reported_at_once():
    strict = call(
        closed=True,
        eligible_kinds=["academia"],
        eligible_countries=["FR"],
        min_gpu_hours=10,
        max_gpu_hours=100,
        durations_months=[6],
        resource_ids=[1],
    )
    with pytest.raises(InvalidInput) as exc:
        check_eligibility(
            strict,
            **submission(org_kind=OrgKind.STARTUP, org_country="IT", gpu_hours=5, duration_months=2, resource_id=9),
        )
    assert fields_of(exc) == {
        "call",
        "organization.kind",
        "organization.country",
        "requested_gpu_hours",
        "duration_months",
        "resource_id",
    }


@pytest.mark.parametrize(("gpu_hours", "ok"), [(1, True), (50_000, True), (50_001, False)])
def test_gpu_hour_range_is_inclusive(gpu_hours, ok):
    if ok:
        check_eligibility(call(), **submission(gpu_hours=gpu_hours))
    else:
        with pytest.raises(InvalidInput):
            check_eligibility(call(), **submission(gpu_hours=gpu_hours))


@pytest.mark.parametrize(
    ("settings", "today", "is_open"),
    [
        ({}, date(2026, 1, 1), True),
        ({}, date(2025, 12, 31), False),
        ({"closes_on": date(2026, 3, 2)}, date(2026, 3, 2), True),
        ({"closes_on": date(2026, 3, 2)}, date(2026, 3, 3), False),
        ({"closes_on": None}, date(2030, 1, 1), True),
        ({"closed": True}, date(2026, 3, 2), False),
    ],
)
def test_call_is_open(settings, today, is_open):
    assert call(**settings).is_open(today) is is_open


def test_valid_settings_pass():
    validate_call_settings(
        call(
            auto_approve_gpu_hours=1_000,
            cutoff_days=[1, 15, 31],
            required_reviews=0,
            decision_working_days=0,
            closes_on=date(2026, 1, 1),
        )
    )


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"min_gpu_hours": 0}, "min_gpu_hours"),
        ({"min_gpu_hours": 100, "max_gpu_hours": 99}, "max_gpu_hours"),
        ({"auto_approve_gpu_hours": 0}, "auto_approve_gpu_hours"),
        ({"auto_approve_gpu_hours": 50_001}, "auto_approve_gpu_hours"),
        ({"closes_on": date(2025, 12, 31)}, "closes_on"),
        ({"durations_months": []}, "durations_months"),
        ({"durations_months": [0]}, "durations_months"),
        ({"durations_months": [3, 61]}, "durations_months"),
        ({"cutoff_days": [0]}, "cutoff_days"),
        ({"cutoff_days": [32]}, "cutoff_days"),
        ({"required_reviews": -1}, "required_reviews"),
        ({"required_reviews": 11}, "required_reviews"),
        ({"decision_working_days": 121}, "decision_working_days"),
        ({"resource_ids": []}, "resource_ids"),
    ],
)
def test_invalid_settings_name_their_field(settings, field):
    with pytest.raises(InvalidInput) as exc:
        validate_call_settings(call(**settings))
    assert fields_of(exc) == {field}


def test_all_invalid_settings_are_reported_together():
    with pytest.raises(InvalidInput) as exc:
        validate_call_settings(call(min_gpu_hours=0, durations_months=[], resource_ids=[], cutoff_days=[40]))
    assert fields_of(exc) == {"min_gpu_hours", "durations_months", "resource_ids", "cutoff_days"}


def test_a_calls_words_in_other_languages_fall_back_to_its_own_and_are_checked():
    c = call(texts={"de": {"title": "Spielwiese"}}, description="Own words")
    assert (c.text_in("title", "de"), c.text_in("title", "fr")) == ("Spielwiese", "Fast lane")
    assert c.text_in("description", "de") == "Own words"  # not translated: its own
    with pytest.raises(InvalidInput) as exc:
        validate_call_settings(call(texts={"deu": {"title": "x"}}))
    assert fields_of(exc) == {"texts"}
    assert clean_texts({"de": {"title": " Titel ", "description": "  "}, "fr": {"title": ""}}) == {
        "de": {"title": "Titel"}
    }
    bad = {"DE": {"title": "x"}, "fr": {"summary": "x"}, "it": {"title": "x" * 201}, "es": "Título"}
    assert [e.field for e in text_problems(bad)] == ["texts", "texts.fr.summary", "texts.it.title", "texts.es"]
    assert text_problems({"de": {"title": "Titel", "description": "Text"}}) == []
    assert [e.field for e in text_problems({f"a{c}": {} for c in "abcdefghi"})] == ["texts"]  # at most 8
