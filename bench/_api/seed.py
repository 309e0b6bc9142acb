"""The API load's database: the demo factory, and proposals (with partner links) up to the number asked for,
varied over the demo's calls, organizations, states and deadlines by the harness's proposal generator."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from _harness.proposals import Calls, People, ProposalMaker
from _harness.report import Log
from _harness.seeding import Audit, Ids, analyze, bulk_insert, demo_database, move_serials

HISTORY_DAYS = 365


@dataclass(frozen=True)
class Fixture:
    url: str
    tokens: dict[str, str]
    proposal_ids: list[int]
    total_proposals: int


def prepare_database(url: str, n_proposals: int, seed: int, log: Log) -> Fixture:
    """``url`` migrated, the demo seeded, proposals bulk-inserted up to ``n_proposals`` in all."""
    from sqlalchemy import Connection, func, select

    from aifactory.demo import OPERATOR_EMAIL
    from aifactory.store import tables as t

    def people(conn: Connection) -> People:
        org_users: dict[int, list[int]] = {}
        applicants = select(t.users.c.id, t.users.c.organization_id).where(t.users.c.organization_id.is_not(None))
        for uid, org_id in conn.execute(applicants):
            org_users.setdefault(org_id, []).append(uid)
        operator_id = conn.scalar(select(t.users.c.id).where(t.users.c.email == OPERATOR_EMAIL))
        resources = {r.name: r.id for r in conn.execute(select(t.resources.c.id, t.resources.c.name))}
        return People(org_users, [], operator_id, resources)

    t0 = time.perf_counter()
    with demo_database(url) as db:
        with db.engine.begin() as conn:
            current = {str(c["access_mode"]): dict(c) for c in conn.execute(select(t.calls)).mappings()}
            existing = conn.scalar(select(func.count()).select_from(t.proposals)) or 0
            ids = Ids(conn, [t.proposals, t.review_assignments, t.reviews])
            maker = ProposalMaker(
                random.Random(seed),
                datetime.now(UTC),
                ids,
                Audit(),  # the list and show endpoints read no audit events: none are inserted
                Calls(current, current, date.min),
                people(conn),
                HISTORY_DAYS,
            )
            made = maker.make(max(0, n_proposals - existing))
            bulk_insert(conn, t.proposals, made.rows)
            bulk_insert(conn, t.proposal_partners, made.partners)
            move_serials(conn, ["proposals"])
        analyze(db.engine)
        with db.engine.connect() as conn:
            proposal_ids = list(conn.scalars(select(t.proposals.c.id)))
    seconds = time.perf_counter() - t0
    log(f"database ready: {len(proposal_ids)} proposals ({len(made.partners)} partner links) in {seconds:.1f} s")
    return Fixture(url=url, tokens=db.info.tokens, proposal_ids=proposal_ids, total_proposals=len(proposal_ids))
