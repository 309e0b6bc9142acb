"""Identity normalization, review scores and conflicts of interest, projects and allocations."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifactory.domain.enums import AllocationStatus, ProjectRole
from aifactory.domain.errors import Forbidden, InvalidInput
from aifactory.domain.identity import ApiToken, normalize_country, normalize_email, normalize_sectors
from aifactory.domain.projects import Allocation, Project, ProjectMember, check_member_organization, slurm_account_name
from aifactory.domain.reviews import Review, check_no_conflict, validate_scores

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("raw", "expected"), [("de", "DE"), ("DE", "DE"), (" fr ", "FR"), ("nl", "NL")])
def test_country_codes_are_normalized(raw, expected):
    assert normalize_country(raw) == expected


@pytest.mark.parametrize("raw", ["ZZ", "DEU", "", "D", "d1", "XK1", None])
def test_invalid_country_codes_are_refused_naming_the_field(raw):
    with pytest.raises(InvalidInput) as exc:
        normalize_country(raw, "organization.country")
    assert exc.value.errors[0].field == "organization.country"
    assert "ISO 3166-1 alpha-2" in str(exc.value)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("Anna@Backhaus.example ", "anna@backhaus.example"),
        ("no-at-sign", None),
        ("a@b", None),
        ("a b@c.de", None),
        ("x@" + "a" * 250 + ".de", None),
    ],
)
def test_email_normalization(raw, ok):
    if ok:
        assert normalize_email(raw) == ok
    else:
        with pytest.raises(InvalidInput) as exc:
            normalize_email(raw)
        assert exc.value.errors[0].field == "email"


def test_sectors_are_application_fields_without_duplicates():
    assert normalize_sectors(["food", "health", "food"]) == ["food", "health"]
    with pytest.raises(InvalidInput) as exc:
        normalize_sectors(["food", "bakery"])
    assert exc.value.errors[0].field == "sectors"


def test_token_usable_until_expiry_unless_revoked():
    tok = ApiToken(
        user_id=1, name="cli", token_hash="0" * 64, prefix="aif_x", created_at=NOW, expires_at=NOW + timedelta(days=1)
    )
    assert tok.usable(NOW)
    assert not tok.usable(NOW + timedelta(days=1))
    tok.revoked_at = NOW
    assert not tok.usable(NOW)


def test_valid_scores_pass():
    validate_scores({"excellence": 1, "impact": 5, "feasibility": 3})


@pytest.mark.parametrize(
    ("scores", "fields"),
    [
        ({"excellence": 0, "impact": 5, "feasibility": 3}, {"scores.excellence"}),
        ({"excellence": 4, "impact": 6, "feasibility": 3}, {"scores.impact"}),
        ({"excellence": 4, "impact": 4}, {"scores.feasibility"}),
        ({}, {"scores.excellence", "scores.impact", "scores.feasibility"}),
        ({"excellence": 4, "impact": 4, "feasibility": 4, "novelty": 3}, {"scores.novelty"}),
    ],
)
def test_invalid_scores_name_each_criterion(scores, fields):
    with pytest.raises(InvalidInput) as exc:
        validate_scores(scores)
    assert {e.field for e in exc.value.errors} == fields


def test_mean_score():
    r = Review(proposal_id=1, reviewer_id=2, score_excellence=4, score_impact=5, score_feasibility=3, submitted_at=NOW)
    assert r.mean_score == pytest.approx(4.0)


@pytest.mark.parametrize(("reviewer_org", "conflict"), [(10, True), (11, True), (12, False), (None, False)])
def test_no_reviewer_from_the_lead_or_a_partner_organization(reviewer_org, conflict):
    if conflict:
        with pytest.raises(Forbidden, match="conflict of interest"):
            check_no_conflict(reviewer_org, {10, 11})
    else:
        check_no_conflict(reviewer_org, {10, 11})


SLURM_SAFE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


@settings(max_examples=300, deadline=None)
@given(pid=st.integers(min_value=1, max_value=10**9), title=st.text(max_size=300))
def test_slurm_account_names_are_slurm_safe(pid, title):
    name = slurm_account_name(pid, title)
    assert SLURM_SAFE.match(name), name


@settings(max_examples=200, deadline=None)
@given(
    a=st.integers(min_value=1, max_value=99_999),
    b=st.integers(min_value=1, max_value=99_999),
    title=st.text(max_size=100),
)
def test_slurm_account_names_are_unique_by_id(a, b, title):
    if a != b:
        assert slurm_account_name(a, title) != slurm_account_name(b, title)


def test_slurm_account_name_examples():
    assert slurm_account_name(7, "Bake less waste: demand forecasting!") == "p00007_bake_less_waste_dema"
    assert slurm_account_name(8, "Über-KI ✨") == "p00008_ber_ki"
    assert slurm_account_name(9, "!!!") == "p00009_project"


def project() -> Project:
    return Project(
        proposal_id=1,
        name="x",
        slurm_account="p00001_x",
        lead_organization_id=10,
        organization_ids=[10, 11],
        created_at=NOW,
        members=[
            ProjectMember(user_id=1, role=ProjectRole.PI, added_at=NOW),
            ProjectMember(user_id=2, role=ProjectRole.MEMBER, added_at=NOW),
        ],
    )


def test_roles_and_member_organizations():
    p = project()
    assert p.role_of(1) is ProjectRole.PI
    assert p.role_of(2) is ProjectRole.MEMBER
    assert p.role_of(3) is None
    check_member_organization(11, p)
    for org in (12, None):
        with pytest.raises(Forbidden):
            check_member_organization(org, p)


@pytest.mark.parametrize(
    ("status", "today", "expected"),
    [
        (AllocationStatus.ACTIVE, date(2026, 6, 1), AllocationStatus.ACTIVE),
        (AllocationStatus.ACTIVE, date(2026, 6, 2), AllocationStatus.EXPIRED),
        (AllocationStatus.SUSPENDED, date(2026, 6, 2), AllocationStatus.SUSPENDED),
        (AllocationStatus.EXHAUSTED, date(2026, 3, 2), AllocationStatus.EXHAUSTED),
    ],
)
def test_allocation_expiry_follows_its_dates(status, today, expected):
    a = Allocation(
        resource_id=1,
        gpu_hours=10,
        start_date=date(2026, 3, 2),
        end_date=date(2026, 6, 1),
        status=status,
        created_at=NOW,
    )
    assert a.effective_status(today) is expected
