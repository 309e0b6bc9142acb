"""Who may see what, as values the store turns into WHERE clauses (rules here, SQL there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ProposalScope:
    """Proposals visible to a viewer: all (operators), or those of an organization taking part
    (lead or partner), or those assigned to the viewer for review."""

    everything: bool = False
    organization_id: int | None = None
    reviewer_id: int | None = None


@dataclass(frozen=True)
class ProjectScope:
    """Projects visible to a viewer: all (operators) or those the user is a member of."""

    everything: bool = False
    member_id: int | None = None


@dataclass(frozen=True)
class PageRequest:
    limit: int = 50
    offset: int = 0


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
