"""A small factory world built through the services themselves: one operator, a JUPITER-like site in
NRW with two partitions, one call per access mode, and helpers to add organizations, users and proposals.
Every helper runs its use case in a fresh unit of work, as the API does.

``env``: the demo factory with the fake backend behind its job gateway (``tests.support.jobs_env.JobsEnv``),
for the job, ledger and accounting tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from aifactory.demo import seed_demo
from aifactory.domain.enums import AccessMode, OrgKind
from aifactory.domain.proposals import Proposal
from aifactory.domain.teams import ConsentState, PartnerConsent
from aifactory.services import calls, identity, jobs, proposals, sites
from aifactory.services.context import Actor
from aifactory.services.ports import FixedClock
from aifactory.store import tables
from aifactory.store.uow import SqlUnitOfWorkFactory
from tests.fakes import FakeBackend
from tests.support.jobs_env import JobsEnv

ABSTRACT = "Daily demand forecasts per product group from sales, weather and holidays."
CALL_SPECS = {
    AccessMode.PLAYGROUND: dict(
        max_gpu_hours=2_000,
        auto_approve_gpu_hours=1_000,
        required_reviews=0,
        durations_months=[1, 2, 3],
        decision_working_days=2,
    ),
    AccessMode.FAST_LANE: dict(
        max_gpu_hours=50_000, required_reviews=1, durations_months=[1, 2, 3], decision_working_days=4
    ),
    AccessMode.LARGE_SCALE: dict(
        min_gpu_hours=50_001,
        max_gpu_hours=2_000_000,
        required_reviews=2,
        durations_months=[3, 6, 12],
        decision_working_days=10,
        cutoff_days=[1, 15],
    ),
}


@dataclass
class World:
    uow_factory: SqlUnitOfWorkFactory
    clock: FixedClock
    operator: Actor = field(init=False)
    booster: int = field(init=False)
    develop: int = field(init=False)
    site_id: int = field(init=False)
    calls: dict[str, int] = field(default_factory=dict)
    _n: int = 0

    def build(self) -> World:
        user, _ = self.run(identity.bootstrap_operator, email="op@jaif.example", name="Operator")
        self.operator = Actor(user)
        site = self.run(
            sites.create_site, self.operator, slug="jupiter", name="JUPITER", country="DE", holiday_subdivision="NW"
        )
        self.site_id = site.id
        self.booster = self.run(
            sites.add_resource,
            self.operator,
            site.id,
            name="booster",
            nodes=100,
            gpus_per_node=4,
            cpus_per_node=288,
            memory_gb_per_node=480,
        ).id
        self.develop = self.run(
            sites.add_resource,
            self.operator,
            site.id,
            name="develop",
            nodes=4,
            gpus_per_node=4,
            cpus_per_node=288,
            memory_gb_per_node=480,
        ).id
        for mode, spec in CALL_SPECS.items():
            self.calls[mode.value] = self.call(mode, **spec)
        return self

    # -- running use cases -------------------------------------------------------------------
    def run(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """``fn(uow, clock, *args)`` in its own unit of work."""
        with self.uow_factory() as uow:
            return fn(uow, self.clock, *args, **kw)

    def read(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """``fn(uow, *args)`` (readers take no clock)."""
        with self.uow_factory(write=False) as uow:
            return fn(uow, *args, **kw)

    # -- building ----------------------------------------------------------------------------
    def call(self, mode: AccessMode, slug: str | None = None, **spec: Any) -> int:
        self._n += 1
        fields = dict(
            slug=slug or f"{mode.value.replace('_', '-')}-{self._n}",
            title=f"{mode.value} call",
            access_mode=mode,
            site_id=self.site_id,
            opens_on=date(2026, 1, 1),
            resource_ids=[self.booster, self.develop],
        )
        fields.update(spec)
        return self.run(calls.create_call, self.operator, **fields).id

    def org(self, name: str, kind: OrgKind = OrgKind.SME, country: str = "DE") -> Actor:
        """Registers an organization; returns its first user (the org admin)."""
        slug = name.lower().replace(" ", "-")
        _org, user, _tok = self.run(
            identity.register,
            organization_name=name,
            kind=kind,
            country=country,
            sectors=[],
            email=f"admin@{slug}.example",
            name=f"{name} Admin",
            verified=True,  # a verified address (verification itself: tests/api/test_accounts_api.py)
        )
        return Actor(user)

    def user(self, email: str, organization_id: int | None, **roles: bool) -> Actor:
        user, _tok = self.run(
            identity.create_user,
            self.operator,
            email=email,
            name=email.split("@")[0],
            organization_id=organization_id,
            **roles,
        )
        return Actor(user)

    def reviewer(self, email: str = "rev@uni.example", organization_id: int | None = None) -> Actor:
        return self.user(email, organization_id, is_reviewer=True)

    def draft(self, actor: Actor, mode: str = "playground", **fields: Any) -> int:
        base = dict(
            title="Bake less waste",
            abstract=ABSTRACT,
            requested_gpu_hours=500,
            resource_id=self.booster,
            duration_months=3,
        )
        call_id = fields.pop("call_id", None) or self.calls[mode]
        return self.run(proposals.create_draft, actor, call_id=call_id, **{**base, **fields}).id

    def submit(self, actor: Actor, proposal_id: int) -> Proposal:
        self.confirm_partners(proposal_id)
        return self.run(proposals.submit, actor, proposal_id)

    def confirm_partners(self, proposal_id: int) -> None:
        """Every partner organization named confirms (as its admin would: services.consent), no e-mails."""
        with self.uow_factory() as uow:
            p = uow.proposals.get(proposal_id)
            asked = {c.organization_id for c in uow.teams.consents(proposal_id)}
            for org_id in set(p.partner_organization_ids) - asked:
                now = self.clock.now()
                uow.teams.add_consent(
                    PartnerConsent(
                        proposal_id=proposal_id, organization_id=org_id, state=ConsentState.CONFIRMED, requested_at=now
                    )
                )
            uow.commit()

    # -- inspecting --------------------------------------------------------------------------
    def proposal(self, proposal_id: int) -> Proposal:
        with self.uow_factory(write=False) as uow:
            return uow.proposals.get(proposal_id)

    def count(self, table: str, **where: Any) -> int:
        t = tables.metadata.tables[table]
        stmt = select(func.count()).select_from(t)
        for col, value in where.items():
            stmt = stmt.where(t.c[col] == value)
        with self.uow_factory(write=False) as uow:
            return uow.session.scalar(stmt)

    def actions(self, entity_type: str | None = None, entity_id: int | None = None) -> list[str]:
        """Audit actions in the order they happened."""
        t = tables.audit_events
        stmt = select(t.c.action).order_by(t.c.id)
        if entity_type:
            stmt = stmt.where(t.c.entity_type == entity_type)
        if entity_id is not None:
            stmt = stmt.where(t.c.entity_id == entity_id)
        with self.uow_factory(write=False) as uow:
            return list(uow.session.scalars(stmt))

    def snapshot_counts(self) -> dict[str, int]:
        with self.uow_factory(write=False) as uow:
            return {name: uow.session.scalar(text(f"SELECT count(*) FROM {name}")) for name in tables.metadata.tables}


@pytest.fixture
def world(uow_factory: SqlUnitOfWorkFactory, clock: FixedClock) -> World:
    return World(uow_factory, clock).build()


@pytest.fixture
def bakery(world: World) -> Actor:
    """An SME from Germany (the lead applicant in most tests)."""
    return world.org("Backhaus Kiel", OrgKind.SME, "DE")


@pytest.fixture
def institute(world: World) -> Actor:
    """An academic partner of the bakery."""
    return world.org("Forschungszentrum Nord", OrgKind.ACADEMIA, "DE")


@pytest.fixture
def outsider(world: World) -> Actor:
    """A startup from France that takes part in nothing the bakery does."""
    return world.org("MedVision", OrgKind.STARTUP, "FR")


# ---------------------------------------------------------------- the job gateway on the demo, with the fake backend


@pytest.fixture
def env(uow_factory: SqlUnitOfWorkFactory, clock: FixedClock, tmp_path: Path) -> JobsEnv:
    demo = seed_demo(uow_factory, clock)
    backend = FakeBackend()
    gw = jobs.Gateway(backend=backend, backend_name="fake", site="jupiter", jobs_root=tmp_path / "jobs")
    with uow_factory() as uow:
        anna = Actor(uow.users.by_email("anna@backhaus-kiel.example"))
        other = Actor(uow.users.by_email("claire@medvision.example"))
    return JobsEnv(uow_factory, clock, demo, backend, gw, anna, other)
