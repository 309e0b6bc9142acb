"""Sites (factories) and their resources (partitions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .stored import Stored


@dataclass(eq=False, kw_only=True)
class Site:
    """One factory. Its holiday calendar (country + subdivision) drives decision deadlines."""

    slug: str
    name: str
    country: str
    holiday_subdivision: str | None = None
    description: str = ""
    created_at: datetime
    id: int | None = None
    resources: list[Resource] = field(default_factory=list)


@dataclass(eq=False, kw_only=True)
class Resource(Stored):
    """A partition of a site: its node shape and billing weights (per GPU-second)."""

    site_id: int | None = None
    name: str
    description: str = ""
    gpu_model: str | None = None
    nodes: int
    gpus_per_node: int
    cpus_per_node: int
    memory_gb_per_node: int
    gpu_billing_weight: float = 1.0
    cpu_billing_weight: float = 0.0
    memory_billing_weight: float = 0.0
    id: int | None = None

    @property
    def total_gpus(self) -> int:
        return self.nodes * self.gpus_per_node
