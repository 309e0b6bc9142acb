"""Access calls and the eligibility rules enforced at submission."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from . import reasons
from .enums import AccessMode, Enforcement, OrgKind
from .errors import FieldError, InvalidInput
from .questions import Question

DEFAULT_MAX_PROPOSALS = 2  # open (submitted, under review) or accepted with a running allocation
DEFAULT_MAX_GPU_HOURS = 2_000  # auto-approved within the period
DEFAULT_PERIOD_MONTHS = 12  # a rolling window ending today


@dataclass(eq=False, kw_only=True)
class Call:
    """An access call. Every limit is a setting; nothing here is specific to a mode."""

    slug: str
    title: str
    access_mode: AccessMode
    site_id: int
    description: str = ""
    opens_on: date
    closes_on: date | None = None  # None: rolling, open until closed by an operator
    closed: bool = False
    eligible_kinds: list[str] = field(default_factory=list)  # empty: every kind
    eligible_countries: list[str] = field(default_factory=list)  # empty: every country
    min_gpu_hours: int = 1
    max_gpu_hours: int
    auto_approve_gpu_hours: int | None = None  # playground: accept at once up to this
    required_reviews: int = 1
    durations_months: list[int] = field(default_factory=lambda: [1, 2, 3])
    decision_working_days: int = 10
    cutoff_days: list[int] = field(default_factory=list)  # days of month; empty: rolling
    max_wall_hours: int = 24
    enforcement: Enforcement = Enforcement.HARD
    resource_ids: list[int] = field(default_factory=list)
    # self-service limits of auto-approval, per lead organization (None: no cap); see self_service_excess
    self_service_max_proposals: int | None = DEFAULT_MAX_PROPOSALS
    self_service_max_gpu_hours: int | None = DEFAULT_MAX_GPU_HOURS
    self_service_period_months: int = DEFAULT_PERIOD_MONTHS
    questions: list[Question] = field(default_factory=list)  # what applicants answer beyond the standard fields
    # the title and description in other languages, shown to people who read the portal in them:
    # {"de": {"title": …, "description": …}}; a missing word falls back to the call's own
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    created_at: datetime
    id: int | None = None

    def text_in(self, name: str, lang: str) -> str:
        """The call's ``title`` or ``description`` in ``lang`` where the call carries it, else its own."""
        own: str = getattr(self, name)
        return (self.texts.get(lang) or {}).get(name) or own

    def is_open(self, today: date) -> bool:
        if self.closed or today < self.opens_on:
            return False
        return self.closes_on is None or today <= self.closes_on


def validate_call_settings(call: Call) -> None:
    """Internal consistency of a call's settings, each problem naming its field."""
    errs: list[FieldError] = []
    if call.min_gpu_hours < 1:
        errs.append(FieldError("min_gpu_hours", "must be at least 1"))
    if call.max_gpu_hours < call.min_gpu_hours:
        errs.append(FieldError("max_gpu_hours", "must be >= min_gpu_hours"))
    if call.auto_approve_gpu_hours is not None and not (0 < call.auto_approve_gpu_hours <= call.max_gpu_hours):
        errs.append(FieldError("auto_approve_gpu_hours", "must be between 1 and max_gpu_hours"))
    if call.closes_on is not None and call.closes_on < call.opens_on:
        errs.append(FieldError("closes_on", "must not be before opens_on"))
    if not call.durations_months or any(not 1 <= m <= 60 for m in call.durations_months):
        errs.append(FieldError("durations_months", "must list durations between 1 and 60 months"))
    if any(not 1 <= d <= 31 for d in call.cutoff_days):
        errs.append(FieldError("cutoff_days", "days of the month must be between 1 and 31"))
    if not 0 <= call.required_reviews <= 10:
        errs.append(FieldError("required_reviews", "must be between 0 and 10"))
    if not 0 <= call.decision_working_days <= 120:
        errs.append(FieldError("decision_working_days", "must be between 0 and 120"))
    if not call.resource_ids:
        errs.append(FieldError("resource_ids", "a call must offer at least one resource"))
    if call.self_service_max_proposals is not None and not 0 <= call.self_service_max_proposals <= 1000:
        errs.append(FieldError("self_service_max_proposals", "must be between 0 and 1000 (or none: no cap)"))
    if call.self_service_max_gpu_hours is not None and not 0 <= call.self_service_max_gpu_hours <= 100_000_000:
        errs.append(FieldError("self_service_max_gpu_hours", "must be between 0 and 100,000,000 (or none: no cap)"))
    if not 1 <= call.self_service_period_months <= 60:
        errs.append(FieldError("self_service_period_months", "must be between 1 and 60"))
    errs.extend(text_problems(call.texts))
    if errs:
        raise InvalidInput("invalid call settings", errs)


TEXT_LIMITS = {"title": 200, "description": 20_000}  # the same limits as the call's own words
MAX_LANGUAGES = 8


def clean_texts(texts: Any) -> Any:
    """Empty words dropped (the call's own are shown instead) and the rest stripped; what is not of the right
    shape is left for ``text_problems`` to name."""
    if not isinstance(texts, dict) or not all(isinstance(w, dict) for w in texts.values()):
        return texts
    out = {lang: {k: v.strip() if isinstance(v, str) else v for k, v in words.items()} for lang, words in texts.items()}
    kept = {lang: {k: v for k, v in words.items() if v not in (None, "")} for lang, words in out.items()}
    return {lang: words for lang, words in kept.items() if words}


def text_problems(texts: Any) -> list[FieldError]:
    """What is wrong with a call's words in other languages: two-letter language codes, only a title and a
    description, each within the limits of the call's own."""
    if not isinstance(texts, dict) or len(texts) > MAX_LANGUAGES:
        return [FieldError("texts", f"must map at most {MAX_LANGUAGES} language codes to a title and a description")]
    errs: list[FieldError] = []
    for lang, words in texts.items():
        if not (isinstance(lang, str) and len(lang) == 2 and lang.isascii() and lang.isalpha() and lang.islower()):
            errs.append(FieldError("texts", f"{lang!r} is not a two-letter language code such as 'de'"))
            continue
        if not isinstance(words, dict):
            errs.append(FieldError(f"texts.{lang}", "must be an object with a title and/or a description"))
            continue
        for name, text in words.items():
            limit = TEXT_LIMITS.get(name)
            if limit is None:
                errs.append(FieldError(f"texts.{lang}.{name}", "unknown: only title and description are translated"))
            elif not isinstance(text, str) or len(text) > limit:
                errs.append(FieldError(f"texts.{lang}.{name}", f"must be text of at most {limit:,} characters"))
    return errs


def check_eligibility(call: Call, **facts: Any) -> None:
    """Everything a submission must satisfy to enter this call (``facts``: those of ``eligibility_problems``);
    all problems are reported at once."""
    errs = eligibility_problems(call, **facts)
    if errs:
        raise InvalidInput("the proposal does not meet the call's conditions", errs)


def eligibility_problems(
    call: Call,
    *,
    org_kind: OrgKind,
    org_country: str,
    gpu_hours: int,
    duration_months: int,
    resource_id: int,
    today: date,
) -> list[FieldError]:
    """What keeps a proposal out of this call (empty: it may enter), each problem naming its field."""
    errs: list[FieldError] = []
    if not call.is_open(today):
        errs.append(FieldError("call", f"call {call.slug!r} is not open for submissions"))
    if call.eligible_kinds and org_kind.value not in call.eligible_kinds:
        errs.append(
            FieldError(
                "organization.kind",
                f"{org_kind.value!r} organizations are not eligible (allowed: {', '.join(call.eligible_kinds)})",
            )
        )
    if call.eligible_countries and org_country not in call.eligible_countries:
        errs.append(
            FieldError(
                "organization.country",
                f"organizations from {org_country} are not eligible (allowed: {', '.join(call.eligible_countries)})",
            )
        )
    if not call.min_gpu_hours <= gpu_hours <= call.max_gpu_hours:
        errs.append(
            FieldError(
                "requested_gpu_hours",
                f"{gpu_hours} is outside this call's range {call.min_gpu_hours}–{call.max_gpu_hours}",
            )
        )
    if duration_months not in call.durations_months:
        errs.append(
            FieldError(
                "duration_months",
                f"{duration_months} is not offered (choose one of {', '.join(map(str, call.durations_months))})",
            )
        )
    if resource_id not in call.resource_ids:
        errs.append(FieldError("resource_id", f"resource {resource_id} is not offered by this call"))
    return errs


@dataclass(frozen=True)
class SelfServiceUse:
    """What an organization holds in a call when it submits: its proposals there that are open (submitted,
    under review) or accepted with an allocation not yet ended, and the GPU-hours auto-approved to it there within
    the call's period (the rolling ``self_service_period_months`` up to now)."""

    live_proposals: int
    auto_approved_gpu_hours: int


def self_service_excess(call: Call, use: SelfServiceUse, requested_gpu_hours: int) -> str | None:
    """Why a proposal that could be auto-approved goes to an operator instead (None: within the limits). Over a
    cap a proposal is never refused: it waits for a decision like any other."""
    cap = call.self_service_max_proposals
    if cap is not None and use.live_proposals >= cap:
        return reasons.held_max_proposals(use.live_proposals, cap).text
    hours = call.self_service_max_gpu_hours
    if hours is not None and use.auto_approved_gpu_hours + requested_gpu_hours > hours:
        used, months = use.auto_approved_gpu_hours, call.self_service_period_months
        return reasons.held_max_gpu_hours(used, months, requested_gpu_hours, hours).text
    return None
