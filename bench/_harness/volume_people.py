"""The portal volume's people: organizations across the EU with their users (the first one an admin), and
reviewers without an organization; each with the audit event of its creation."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .seeding import Audit, Ids, Row, moment, pick

KIND_WEIGHTS = {"sme": 34, "startup": 24, "academia": 20, "industry": 13, "public_sector": 9}
COUNTRY_WEIGHTS = {"DE": 22, "FR": 14, "IT": 11, "ES": 9, "NL": 7, "PL": 6, "BE": 4, "AT": 4, "SE": 4, "FI": 3}
COUNTRY_WEIGHTS |= {"CZ": 3, "PT": 3, "DK": 2, "IE": 2, "GR": 2, "HU": 1, "RO": 1, "SI": 1, "LU": 1}
SECTOR_WEIGHTS = {"health": 18, "energy-climate": 15, "manufacturing": 14, "mobility": 12, "finance": 11}
SECTOR_WEIGHTS |= {"food": 8, "education": 9, "other": 13}
ORG_WORDS = ["Nord", "Süd", "Alpha", "Data", "Vision", "Quantum", "Green", "Blue", "Smart", "Open", "Neuro"]
ORG_WORDS += ["Agri", "Helio", "Aero", "Medi", "Fin", "Logi", "Robo", "Terra", "Volt"]
ORG_SUFFIX = {
    "sme": ["GmbH", "S.r.l.", "B.V.", "SARL", "Sp. z o.o.", "Oy"],
    "startup": ["AI", "Labs", "Analytics"],
    "academia": ["University", "Institute", "Research Centre"],
    "industry": ["AG", "S.p.A.", "SE", "Group"],
    "public_sector": ["City Council", "Agency", "Region"],
}
REVIEWERS = 30


def _user(uid: int, email: str, name: str, org: int | None, at: datetime, **roles: bool) -> Row:
    return {
        "id": uid,
        "email": email,
        "name": name,
        "organization_id": org,
        "is_operator": False,
        "is_reviewer": roles.get("reviewer", False),
        "is_org_admin": roles.get("admin", False),
        "active": roles.get("active", True),
        "created_at": at,
        "password_hash": None,
    }


def organizations(
    rng: random.Random, now: datetime, ids: Ids, audit: Audit, n: int, days: float
) -> tuple[list[Row], list[Row], dict[int, list[int]]]:
    """``n`` organizations registered over the last ``days``: their rows, their users' rows, org -> users."""
    orgs: list[Row] = []
    users: list[Row] = []
    org_users: dict[int, list[int]] = {}
    for _ in range(n):
        oid = ids.take("organizations")
        kind = pick(rng, KIND_WEIGHTS)
        created = moment(rng, now, days)
        name = f"{rng.choice(ORG_WORDS)}{rng.choice(ORG_WORDS).lower()} {rng.choice(ORG_SUFFIX[kind])} #{oid}"
        sectors = sorted({pick(rng, SECTOR_WEIGHTS) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))})
        country = pick(rng, COUNTRY_WEIGHTS)
        orgs.append(
            {"id": oid, "name": name, "kind": kind, "country": country, "sectors": sectors, "created_at": created}
        )
        audit.event(created, None, "organization.registered", "organization", oid, {"name": name, "kind": kind})
        for k in range(rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5])):
            uid = ids.take("users")
            at = created + timedelta(days=rng.uniform(0, 30)) if k else created
            email = f"user{uid}@org{oid}.example"
            users.append(_user(uid, email, f"User {uid}", oid, at, admin=k == 0, active=rng.random() > 0.02))
            audit.event(at, None, "user.created", "user", uid, {"email": email})
            org_users.setdefault(oid, []).append(uid)
    return orgs, users, org_users


def reviewers(rng: random.Random, now: datetime, ids: Ids, audit: Audit, operator_id: int, days: float) -> list[Row]:
    """The reviewers' user rows (the operator created them)."""
    users = []
    for _ in range(REVIEWERS):
        uid = ids.take("users")
        at = moment(rng, now, days)
        email = f"reviewer{uid}@review.example"
        users.append(_user(uid, email, f"Reviewer {uid}", None, at, reviewer=True))
        audit.event(at, operator_id, "user.created", "user", uid, {"email": email})
    return users
