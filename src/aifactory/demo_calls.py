"""The demo's access calls: a playground, a fast lane and a large-scale call on the demo site's resources."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .domain.enums import AccessMode, Enforcement
from .services import calls
from .services.context import Actor
from .services.ports import Clock, UnitOfWork

if TYPE_CHECKING:
    from .demo import DemoInfo


def seed_calls(uow: UnitOfWork, clock: Clock, op: Actor, site_id: int, info: DemoInfo) -> None:
    """The demo's three calls, one per access mode, open for a month; each with its words in German."""
    today = clock.now().date()
    res = [info.resource_ids["booster"], info.resource_ids["develop"]]
    common: dict[str, Any] = dict(site_id=site_id, opens_on=today - timedelta(days=30), resource_ids=res)
    specs: dict[AccessMode, dict[str, Any]] = {
        AccessMode.PLAYGROUND: dict(
            slug="playground-2026",
            title="AI Factory Playground",
            max_gpu_hours=2_000,
            auto_approve_gpu_hours=1_000,
            required_reviews=0,
            durations_months=[1, 2, 3],
            decision_working_days=2,
            cutoff_days=[],
            max_wall_hours=4,
            description="Rolling, first come first served; access within 2 working days; 1–3 months.",
            texts={
                "de": {
                    "title": "AI Factory Playground: erste Schritte",
                    "description": "Laufend, in der Reihenfolge der Anträge; Zugang innerhalb von 2 Arbeitstagen; "
                    "1–3 Monate.",
                }
            },
        ),
        AccessMode.FAST_LANE: dict(
            slug="fast-lane-2026",
            title="AI Factory Fast Lane",
            max_gpu_hours=50_000,
            required_reviews=1,
            durations_months=[1, 2, 3],
            decision_working_days=4,
            cutoff_days=[],
            max_wall_hours=24,
            description="Up to 50,000 GPU-hours, short technical assessment, access within 4 working days.",
            texts={
                "de": {
                    "title": "AI Factory Fast Lane: schneller Zugang",
                    "description": "Bis zu 50.000 GPU-Stunden, kurze technische Prüfung, Zugang innerhalb von "
                    "4 Arbeitstagen.",
                }
            },
            questions=[{"key": "work_plan", "required": True}, {"key": "data_readiness", "required": True}],
        ),
        AccessMode.LARGE_SCALE: dict(
            slug="large-scale-2026",
            title="AI Factory Large Scale",
            min_gpu_hours=50_001,
            max_gpu_hours=2_000_000,
            required_reviews=2,
            durations_months=[3, 6, 12],
            decision_working_days=10,
            cutoff_days=[1, 15],
            max_wall_hours=48,
            enforcement=Enforcement.SOFT,
            eligible_kinds=["startup", "sme", "industry", "academia", "public_sector"],
            description="Over 50,000 GPU-hours, technical and peer review, two cut-offs a month, "
            "decision within 10 working days of a cut-off; 3, 6 or 12 months.",
            texts={
                "de": {
                    "title": "AI Factory Large Scale: große Vorhaben",
                    "description": "Über 50.000 GPU-Stunden, technische Prüfung und Begutachtung, zwei Stichtage "
                    "im Monat, Entscheidung innerhalb von 10 Arbeitstagen nach einem Stichtag; 3, 6 oder 12 Monate.",
                }
            },
            questions=[
                {"key": "work_plan", "required": True},
                {"key": "milestones", "required": True},
                {"key": "data_readiness", "required": True},
                {"key": "code_readiness", "required": True},
                {"key": "team_experience", "required": True},
                {"key": "impact", "required": True},
                {"key": "attachment"},
            ],
        ),
    }
    for mode, spec in specs.items():
        call = calls.create_call(uow, clock, op, access_mode=mode, **common, **spec)
        assert call.id is not None
        info.call_ids[mode.value] = call.id
