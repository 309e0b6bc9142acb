"""The demo factory (aifactory.demo) in the tests: its people, a database seeded with it, and a snapshot of its
rows that each test inserts into its own fresh database (cheaper than seeding through the services again).

Demo state: bakery (Backhaus, lead; FZ Nord partner) auto-accepted on the playground with a project;
medvision under review (Schulz assigned); autonomia submitted to large scale; juelich a playground draft;
gridwise reviewed (Novák) and accepted on the fast lane."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from aifactory.demo import OPERATOR_EMAIL, DemoInfo, seed_demo
from aifactory.services.ports import Clock, SystemClock
from aifactory.store import tables
from aifactory.store.engine import make_engine, make_session_factory
from aifactory.store.uow import SqlUnitOfWorkFactory

from . import dbs

PEOPLE = {
    "operator": OPERATOR_EMAIL,
    "anna": "anna@backhaus-kiel.example",  # Backhaus Kiel (SME, DE): bakery, PI of its project
    "lars": "lars@fz-nord.example",  # Forschungszentrum Nord (academia, DE): bakery partner and member
    "claire": "claire@medvision.example",  # MedVision (startup, FR): medvision, under review
    "marco": "marco@autonomia.example",  # Autonomia (industry, IT): autonomia, submitted
    "eva": "eva@juelich.example",  # Stadt Jülich (public sector, DE): juelich, a draft
    "daan": "daan@gridwise.example",  # GridWise (startup, NL): gridwise, accepted
    "schulz": "rev.schulz@uni-bonn.example",  # reviewer of medvision
    "novak": "rev.novak@cuni.example",  # reviewer of gridwise
}

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class SeededDatabase:
    """A migrated SQLite file with the demo in it."""

    url: str
    info: DemoInfo


@dataclass(frozen=True)
class DemoSnapshot:
    """The demo seeded through the services once, and every row it wrote, table by table."""

    info: DemoInfo
    rows: Rows


def seed_demo_sqlite(template: Path, target: Path, clock: Clock | None = None) -> SeededDatabase:
    """A copy of the migrated ``template`` at ``target``, seeded with the demo through the services."""
    url = dbs.fresh_sqlite(template, target)
    engine = make_engine(url)
    try:
        info = seed_demo(SqlUnitOfWorkFactory(make_session_factory(engine)), clock or SystemClock())
    finally:
        engine.dispose()
    return SeededDatabase(url, info)


def snapshot_demo(template: Path, target: Path, clock: Clock) -> DemoSnapshot:
    seeded = seed_demo_sqlite(template, target, clock)
    engine = make_engine(seeded.url)
    try:
        with engine.connect() as conn:
            rows = {
                t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in tables.metadata.sorted_tables
            }
    finally:
        engine.dispose()
    return DemoSnapshot(seeded.info, rows)


def load_rows(uow_factory: SqlUnitOfWorkFactory, rows: Rows) -> None:
    """Insert the rows into an empty database; PostgreSQL's id sequences continue after them."""
    with uow_factory() as uow:
        for t in tables.metadata.sorted_tables:
            if rows[t.name]:
                uow.session.execute(t.insert(), rows[t.name])
        if uow.session.get_bind().dialect.name == "postgresql":
            for t in tables.metadata.sorted_tables:
                if "id" in t.c and rows[t.name]:
                    top = max(r["id"] for r in rows[t.name])
                    uow.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), {top})"))
        uow.commit()
