"""Closed vocabularies of the glossary (DESIGN.md). Values are stable API strings."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    STARTUP = "startup"
    SME = "sme"
    INDUSTRY = "industry"
    ACADEMIA = "academia"
    PUBLIC_SECTOR = "public_sector"


class AccessMode(StrEnum):
    PLAYGROUND = "playground"
    FAST_LANE = "fast_lane"
    LARGE_SCALE = "large_scale"


class ApplicationField(StrEnum):
    HEALTH = "health"
    ENERGY_CLIMATE = "energy-climate"
    MOBILITY = "mobility"
    EDUCATION = "education"
    FINANCE = "finance"
    MANUFACTURING = "manufacturing"
    FOOD = "food"
    OTHER = "other"


class RiskCategory(StrEnum):
    """EU AI Act risk tiers of the intended use."""

    PROHIBITED = "prohibited"
    HIGH = "high"
    LIMITED = "limited"
    MINIMAL = "minimal"


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ProjectRole(StrEnum):
    PI = "pi"
    MEMBER = "member"


class AllocationStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    SUSPENDED = "suspended"


class Enforcement(StrEnum):
    HARD = "hard"
    SOFT = "soft"


class Criterion(StrEnum):
    EXCELLENCE = "excellence"
    IMPACT = "impact"
    FEASIBILITY = "feasibility"


class DueStatus(StrEnum):
    NOT_SUBMITTED = "not_submitted"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    ON_TRACK = "on_track"
    DECIDED = "decided"
