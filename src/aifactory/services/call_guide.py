"""What an applicant needs to know about a call, in figures the portal puts into words: when the next cut-off
is and by when a proposal submitted today is decided, the review criteria, and how many GPU-hours a run of each
catalog template needs (from the template's own ``resources``), as a sizing help for the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..domain.access import PageRequest
from ..domain.calendar import decision_deadline, next_cutoff
from ..domain.calls import Call
from ..domain.catalog import CatalogKind
from ..domain.enums import Criterion
from ..domain.errors import InvalidInput
from ..domain.jobs.spec import parse_time_minutes
from .catalog import search
from .context import Actor
from .ports import UnitOfWork
from .proposals import site_calendar


@dataclass(frozen=True)
class Sizing:
    """One run of a catalog template: ``gpus`` for at most ``minutes``, so at most ``gpu_hours``."""

    slug: str
    title: str
    texts: dict[str, dict[str, str]]
    gpus: int
    minutes: int

    @property
    def gpu_hours(self) -> float:
        return self.gpus * self.minutes / 60


@dataclass(frozen=True)
class CallGuide:
    next_cutoff: date | None  # None: rolling, a proposal is looked at when it comes
    decided_by: date | None  # a proposal submitted today is decided by then (None: the call is not open)
    auto_approve_gpu_hours: int | None
    criteria: tuple[Criterion, ...]
    sizing: tuple[Sizing, ...]


def _sizing(uow: UnitOfWork, actor: Actor | None) -> tuple[Sizing, ...]:
    items = search(uow, actor, PageRequest(limit=100, offset=0), kind=CatalogKind.TEMPLATE).items
    out = []
    for item in items:
        res = item.details.get("resources") or {}
        try:
            minutes = parse_time_minutes(res.get("time", 60))
        except (ValueError, InvalidInput):
            continue
        gpus = int(res.get("nodes", 1)) * int(res.get("gpus_per_node", 0))
        out.append(Sizing(item.slug, item.title, dict(item.details.get("texts") or {}), gpus, minutes))
    return tuple(sorted(out, key=lambda s: (-s.gpus, s.slug)))


def guide(uow: UnitOfWork, actor: Actor | None, call: Call, today: date) -> CallGuide:
    cutoff = next_cutoff(today, call.cutoff_days) if call.cutoff_days else None
    decided_by = None
    if call.is_open(today):
        decided_by = decision_deadline(
            today, call.decision_working_days, call.cutoff_days, site_calendar(uow, call, today)
        )
    return CallGuide(
        next_cutoff=cutoff,
        decided_by=decided_by,
        auto_approve_gpu_hours=call.auto_approve_gpu_hours,
        criteria=tuple(Criterion),
        sizing=_sizing(uow, actor),
    )
