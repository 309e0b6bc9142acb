"""A realistic demo factory, seeded through the services (so it is validated and audited like real use).

JUPITER-like site: a ``booster`` partition of GH200 nodes with 4 GPUs each and a small ``develop``
partition; one open call per access mode, following the EuroHPC AI Factory access modes (these are
call settings, not constants in code); organizations of several kinds and countries, among them a
bakery chain SME; proposals in every state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .demo_calls import seed_calls
from .domain.enums import OrgKind, RiskCategory
from .domain.identity import User
from .domain.teams import ConsentState, PartnerConsent
from .services import catalog, catalog_review, decisions, identity, proposals, sites
from .services.context import Actor, found
from .services.ports import Clock, UnitOfWork, UnitOfWorkFactory

OPERATOR_EMAIL = "operator@jaif.example"
DEMO_PASSWORD = "bake-less-waste"  # every demo person's portal password (a development database only)


@dataclass
class DemoInfo:
    tokens: dict[str, str] = field(default_factory=dict)  # email -> secret
    call_ids: dict[str, int] = field(default_factory=dict)  # access mode -> call id
    resource_ids: dict[str, int] = field(default_factory=dict)
    org_ids: dict[str, int] = field(default_factory=dict)
    proposal_ids: dict[str, int] = field(default_factory=dict)
    history_rows: dict[str, int] = field(default_factory=dict)  # table -> rows of the year of history (if seeded)
    history_seconds: float = 0.0  # how long seeding the history took


ORGS = [  # name, kind, country, sectors, applicant e-mail, applicant name
    ("Backhaus Kiel GmbH", OrgKind.SME, "DE", ["food"], "anna@backhaus-kiel.example", "Anna Petersen"),
    (
        "Forschungszentrum Nord",
        OrgKind.ACADEMIA,
        "DE",
        ["energy-climate", "food"],
        "lars@fz-nord.example",
        "Lars Jensen",
    ),
    ("MedVision AI", OrgKind.STARTUP, "FR", ["health"], "claire@medvision.example", "Claire Martin"),
    ("Autonomia Mobility S.p.A.", OrgKind.INDUSTRY, "IT", ["mobility"], "marco@autonomia.example", "Marco Rossi"),
    ("Stadt Jülich", OrgKind.PUBLIC_SECTOR, "DE", ["education"], "eva@juelich.example", "Eva Schmitz"),
    ("GridWise Analytics", OrgKind.STARTUP, "NL", ["energy-climate"], "daan@gridwise.example", "Daan de Vries"),
]

REVIEWERS = [("rev.schulz@uni-bonn.example", "Prof. Maria Schulz"), ("rev.novak@cuni.example", "Dr. Tomáš Novák")]


# Billing like Slurm's TRESBillingWeights with MAX_TRES: a job pays for the share of a 4-GPU node it blocks, so
# 72 CPUs (a quarter of 288) or 120 GB (a quarter of 480) cost as much as one GPU.
NODE_SHARE_WEIGHTS = {"gpu_billing_weight": 1.0, "cpu_billing_weight": 4 / 288, "memory_billing_weight": 4 / 480}


def _stored(entity_id: int | None) -> int:
    """The id of an entity a use case has stored (the services flush before they return it)."""
    assert entity_id is not None
    return entity_id


def _by_email(uow: UnitOfWork, email: str) -> User:
    return found(uow.users.by_email(email), "user", email)


def _site(uow: UnitOfWork, clock: Clock, op: Actor, info: DemoInfo) -> int:
    site = sites.create_site(
        uow,
        clock,
        op,
        slug="jupiter",
        name="JUPITER AI Factory (demo)",
        country="DE",
        holiday_subdivision="NW",
        description="Exascale system with Slurm-scheduled GH200 booster nodes, 4 GPUs per node.",
    )
    site_id = _stored(site.id)
    booster = sites.add_resource(
        uow,
        clock,
        op,
        site_id,
        name="booster",
        gpu_model="NVIDIA GH200",
        nodes=5884,
        gpus_per_node=4,
        cpus_per_node=288,
        memory_gb_per_node=480,
        description="GH200 booster partition",
        **NODE_SHARE_WEIGHTS,
    )
    develop = sites.add_resource(
        uow,
        clock,
        op,
        site_id,
        name="develop",
        gpu_model="NVIDIA GH200",
        nodes=16,
        gpus_per_node=4,
        cpus_per_node=288,
        memory_gb_per_node=480,
        description="Small partition for development and tests",
        **NODE_SHARE_WEIGHTS,
    )
    info.resource_ids = {"booster": _stored(booster.id), "develop": _stored(develop.id)}
    return site_id


def _people(uow: UnitOfWork, clock: Clock, op: Actor, info: DemoInfo) -> None:
    for name, kind, country, sectors, email, person in ORGS:
        org, _user, tok = identity.register(
            uow,
            clock,
            organization_name=name,
            kind=kind,
            country=country,
            sectors=sectors,
            email=email,
            name=person,
            verified=True,  # the demo's people are verified (their addresses are made up)
        )
        info.org_ids[name] = _stored(org.id)
        info.tokens[email] = tok.secret
    for email, person in REVIEWERS:
        _u, tok = identity.create_user(uow, clock, op, email=email, name=person, organization_id=None, is_reviewer=True)
        info.tokens[email] = tok.secret


AUTONOMIA_ANSWERS: dict[str, Any] = {
    "work_plan": "Phase 1 (months 1-2): curate and tokenize 2 PB of driving video on the booster's storage. "
    "Phase 2 (months 2-5): pre-train a 7B video world model on 512 GPUs, checkpointing daily. "
    "Phase 3 (month 6): validate closed-loop simulation against recorded disengagements.",
    "milestones": [
        {"month": 2, "title": "Tokenized training set of 2 PB, data loader at 90 % GPU utilization"},
        {"month": 5, "title": "World model pre-trained; video prediction error below the baseline"},
        {"month": 6, "title": "Closed-loop validation report on 1,000 recorded scenarios"},
    ],
    "data_readiness": "Ready and accessible",
    "code_readiness": "Runs on several GPUs",
    "team_experience": "Twelve engineers who trained perception models on 64 GPUs for three years; "
    "two have run jobs on EuroHPC systems before.",
    "impact": "Cheaper, safer validation of automated driving: fewer test kilometres on public roads, and "
    "a model shared with European research partners.",
}


def _proposals(uow: UnitOfWork, clock: Clock, info: DemoInfo) -> None:
    def actor(email: str) -> Actor:
        return Actor(_by_email(uow, email))

    def draft(email: str, mode: str, key: str, **kw: Any) -> int:
        p = proposals.create_draft(
            uow,
            clock,
            actor(email),
            call_id=info.call_ids[mode],
            resource_id=info.resource_ids[kw.pop("resource", "booster")],
            **kw,
        )
        info.proposal_ids[key] = _stored(p.id)
        return info.proposal_ids[key]

    bakery = draft(
        "anna@backhaus-kiel.example",
        "playground",
        "bakery",
        title="Bake less waste: demand forecasting for 40 bakery branches",
        abstract="Daily demand forecasts per product group from sales, weather and holidays, "
        "to plan production and cut unsold bread.",
        application_field="food",
        requested_gpu_hours=500,
        duration_months=3,
        partner_organization_ids=[info.org_ids["Forschungszentrum Nord"]],
        team=[{"name": "Lars Jensen", "email": "lars@fz-nord.example", "role": "ML advisor"}],
    )
    lars = actor("lars@fz-nord.example")  # FZ Nord's admin has confirmed the partnership
    uow.teams.add_consent(
        PartnerConsent(
            proposal_id=bakery,
            organization_id=info.org_ids["Forschungszentrum Nord"],
            state=ConsentState.CONFIRMED,
            requested_at=clock.now(),
            answered_at=clock.now(),
            answered_by=lars.id,
        )
    )
    proposals.submit(uow, clock, actor("anna@backhaus-kiel.example"), bakery)  # auto-approved
    med = draft(
        "claire@medvision.example",
        "fast_lane",
        "medvision",
        title="Foundation model fine-tuning for chest X-ray triage",
        abstract="Fine-tune a vision transformer on de-identified radiographs to prioritise urgent cases.",
        application_field="health",
        requested_gpu_hours=20_000,
        duration_months=3,
        risk_category=RiskCategory.HIGH,
        personal_data=True,
        health_data=True,
        answers={
            "work_plan": "Month 1: de-identify and curate 120,000 radiographs with our hospital partner. "
            "Month 2: fine-tune a ViT-L on 8 GPUs with a held-out hospital for validation. "
            "Month 3: calibrate triage thresholds with radiologists and write up.",
            "data_readiness": "Ready and accessible",
        },
    )
    proposals.submit(uow, clock, actor("claire@medvision.example"), med)
    auto = draft(
        "marco@autonomia.example",
        "large_scale",
        "autonomia",
        title="World models for autonomous driving in European cities",
        abstract="Train a video world model on 2 PB of driving logs for simulation-based validation.",
        application_field="mobility",
        requested_gpu_hours=400_000,
        duration_months=6,
        risk_category=RiskCategory.HIGH,
        answers=AUTONOMIA_ANSWERS,
    )
    proposals.submit(uow, clock, actor("marco@autonomia.example"), auto)
    draft(
        "eva@juelich.example",
        "playground",
        "juelich",
        title="Chatbot for citizen services (draft)",
        abstract="A retrieval-augmented assistant answering questions about municipal services.",
        application_field="education",
        requested_gpu_hours=300,
        duration_months=2,
        resource="develop",
    )
    grid = draft(
        "daan@gridwise.example",
        "fast_lane",
        "gridwise",
        title="Short-term grid load forecasting with graph neural networks",
        abstract="Forecast substation load 48 h ahead to integrate more wind and solar power.",
        application_field="energy-climate",
        requested_gpu_hours=8_000,
        duration_months=2,
        answers={
            "work_plan": "Weeks 1-3: build the substation graph and features from two years of SCADA data. "
            "Weeks 4-8: train and compare graph neural networks against our gradient-boosting baseline.",
            "data_readiness": "Ready and accessible",
        },
    )
    proposals.submit(uow, clock, actor("daan@gridwise.example"), grid)


def _reviews(uow: UnitOfWork, clock: Clock, op: Actor, info: DemoInfo) -> None:
    """MedVision: under review; GridWise: reviewed and accepted."""
    rev = [Actor(_by_email(uow, e)) for e, _ in REVIEWERS]
    decisions.assign_reviewers(uow, clock, op, info.proposal_ids["medvision"], [rev[0].id])
    grid = info.proposal_ids["gridwise"]
    decisions.assign_reviewers(uow, clock, op, grid, [rev[1].id])
    decisions.submit_review(
        uow,
        clock,
        rev[1],
        grid,
        scores={"excellence": 4, "impact": 5, "feasibility": 4},
        comments={"impact": "Directly supports the energy transition."},
        summary="Technically sound; data access is in place.",
        declare_no_conflict=True,
    )
    decisions.decide(
        uow,
        clock,
        op,
        grid,
        accept_it=True,
        awarded_gpu_hours=6_000,
        reason="Feasible and impactful; award reduced to match the two-month plan.",
    )


def seed_demo(uow_factory: UnitOfWorkFactory, clock: Clock, *, history: bool = False) -> DemoInfo:
    """Seed an empty database. Each step is one or more ordinary use cases. ``history``: then add a year of
    past proposals, projects, jobs and ledger entries in bulk (demo_history; ``aifactory demo`` asks for it)."""
    info = DemoInfo()
    with uow_factory() as uow:
        op_user, tok = identity.bootstrap_operator(uow, clock, email=OPERATOR_EMAIL, name="Factory Operator")
        info.tokens[OPERATOR_EMAIL] = tok.secret
        op = Actor(op_user)
        site_id = _site(uow, clock, op, info)
        seed_calls(uow, clock, op, site_id, info)
        _people(uow, clock, op, info)
        _proposals(uow, clock, info)
        _reviews(uow, clock, op, info)
        _catalog(uow, clock, Actor(_by_email(uow, "anna@backhaus-kiel.example")), op)
        _passwords(uow, list(info.tokens))
    if history:
        import time

        from .demo_history import seed_history

        started = time.perf_counter()
        info.history_rows = seed_history(uow_factory, clock, info)
        info.history_seconds = time.perf_counter() - started
    return info


def _passwords(uow: UnitOfWork, emails: list[str]) -> None:
    """The portal's sign-in for every demo person (one argon2 hash, shared: the demo is public anyway)."""
    from .services.sessions import hash_password

    shared = hash_password(DEMO_PASSWORD)
    for email in emails:
        _by_email(uow, email).password_hash = shared
    uow.commit()


def _catalog(uow: UnitOfWork, clock: Clock, anna: Actor, op: Actor) -> None:
    """The bakery showcase's dataset and its story (figures measured with the template's defaults), public
    once the operator approved them."""
    from .showcase.bakery.story import STORY, dataset

    for fields in (dataset(), STORY):
        item = catalog.publish(uow, clock, anna, **fields)
        catalog_review.review_item(uow, clock, op, item.stored_id, approve=True)
