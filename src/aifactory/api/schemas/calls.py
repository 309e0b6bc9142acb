from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, field_validator

from ...domain.calls import MAX_LANGUAGES
from ...domain.enums import AccessMode, Enforcement, OrgKind
from ...domain.questions import MAX_QUESTIONS
from .common import Id, In, LongText, Out, Text200, refuse_null
from .questions import QuestionIn, QuestionOut

Hours = Annotated[int, Field(ge=1, le=100_000_000)]
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class SiteIn(In):
    slug: Slug
    name: Text200
    country: Annotated[str, Field(min_length=2, max_length=2)]
    holiday_subdivision: Annotated[str | None, Field(max_length=8)] = None
    description: LongText = ""


class ResourceIn(In):
    name: Slug
    description: LongText = ""
    gpu_model: Annotated[str | None, Field(max_length=64)] = None
    nodes: Annotated[int, Field(ge=1, le=100_000)]
    gpus_per_node: Annotated[int, Field(ge=0, le=64)]
    cpus_per_node: Annotated[int, Field(ge=1, le=4096)]
    memory_gb_per_node: Annotated[int, Field(ge=1, le=1_000_000)]
    gpu_billing_weight: Annotated[float, Field(ge=0, le=1000)] = 1.0
    cpu_billing_weight: Annotated[float, Field(ge=0, le=1000)] = 0.0
    memory_billing_weight: Annotated[float, Field(ge=0, le=1000)] = 0.0


class ResourceOut(Out):
    id: int
    site_id: int
    name: str
    description: str
    gpu_model: str | None
    nodes: int
    gpus_per_node: int
    cpus_per_node: int
    memory_gb_per_node: int
    gpu_billing_weight: float
    cpu_billing_weight: float
    memory_billing_weight: float


class SiteOut(Out):
    id: int
    slug: str
    name: str
    country: str
    holiday_subdivision: str | None
    description: str
    resources: list[ResourceOut]


LangCode = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="a two-letter language code, e.g. de")]


class CallTexts(In):
    """A call's words in one other language; what is left out (or empty) shows the call's own."""

    title: Annotated[str, Field(max_length=200)] | None = None
    description: LongText | None = None


class CallSettings(In):
    """Everything an operator sets on a call; all optional in an update."""

    title: Text200 | None = None
    description: LongText | None = None
    opens_on: date | None = None
    closes_on: date | None = None
    closed: bool | None = None
    eligible_kinds: Annotated[list[OrgKind], Field(max_length=5)] | None = None
    eligible_countries: (
        Annotated[list[Annotated[str, Field(min_length=2, max_length=2)]], Field(max_length=60)] | None
    ) = None
    min_gpu_hours: Hours | None = None
    max_gpu_hours: Hours | None = None
    auto_approve_gpu_hours: Hours | None = None
    required_reviews: Annotated[int, Field(ge=0, le=10)] | None = None
    durations_months: Annotated[list[Annotated[int, Field(ge=1, le=60)]], Field(min_length=1, max_length=24)] | None = (
        None
    )
    decision_working_days: Annotated[int, Field(ge=0, le=120)] | None = None
    cutoff_days: Annotated[list[Annotated[int, Field(ge=1, le=31)]], Field(max_length=31)] | None = None
    max_wall_hours: Annotated[int, Field(ge=1, le=720)] | None = None
    enforcement: Enforcement | None = None
    resource_ids: Annotated[list[Id], Field(min_length=1, max_length=100)] | None = None
    self_service_max_proposals: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        default=None, description="per organization: open or accepted proposals auto-approval allows (null: no cap)"
    )
    self_service_max_gpu_hours: Annotated[int, Field(ge=0, le=100_000_000)] | None = Field(
        default=None, description="per organization: GPU-hours auto-approved within the period (null: no cap)"
    )
    self_service_period_months: Annotated[int, Field(ge=1, le=60)] | None = Field(
        default=None, description="the rolling period of the GPU-hours cap, in months up to today"
    )
    questions: Annotated[list[QuestionIn], Field(max_length=MAX_QUESTIONS)] | None = Field(
        default=None, description="what applicants answer beyond the standard fields (an update replaces the list)"
    )
    texts: Annotated[dict[LangCode, CallTexts], Field(max_length=MAX_LANGUAGES)] | None = Field(
        default=None,
        description='the title and description in other languages, e.g. {"de": {"title": …}} (an update replaces them)',
    )

    # null clears closes_on (rolling call), auto_approve_gpu_hours (no auto-approval) and the self-service caps
    _no_nulls = field_validator(
        "title",
        "description",
        "opens_on",
        "closed",
        "eligible_kinds",
        "eligible_countries",
        "min_gpu_hours",
        "max_gpu_hours",
        "required_reviews",
        "durations_months",
        "decision_working_days",
        "cutoff_days",
        "max_wall_hours",
        "enforcement",
        "resource_ids",
        "self_service_period_months",
        "questions",
        "texts",
        mode="before",
    )(refuse_null)


class CallCreate(CallSettings):
    slug: Slug
    title: Text200
    access_mode: AccessMode
    site_id: Id
    opens_on: date
    max_gpu_hours: Hours
    resource_ids: Annotated[list[Id], Field(min_length=1, max_length=100)]


class CallOut(Out):
    id: int
    slug: str
    title: str
    access_mode: AccessMode
    site_id: int
    description: str
    opens_on: date
    closes_on: date | None
    closed: bool
    is_open: bool = False
    eligible_kinds: list[str]
    eligible_countries: list[str]
    min_gpu_hours: int
    max_gpu_hours: int
    auto_approve_gpu_hours: int | None
    required_reviews: int
    durations_months: list[int]
    decision_working_days: int
    cutoff_days: list[int]
    max_wall_hours: int
    enforcement: Enforcement
    resource_ids: list[int]
    self_service_max_proposals: int | None
    self_service_max_gpu_hours: int | None
    self_service_period_months: int
    questions: list[QuestionOut]
    texts: dict[str, dict[str, str]]
    created_at: datetime
