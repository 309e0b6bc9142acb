"""The proposal generator: realistic proposals over the calls, organizations and states, with their partners,
reviewer assignments, reviews and audit events. ``bench/api_load.py`` draws them over the demo's calls and
organizations; the portal's volume (``volume.py``) over 18 months, with last year's calls and its own
organizations and reviewers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from aifactory.domain.calendar import add_months

from .seeding import Audit, Ids, Row, moment, pick

TOPICS = [
    ("food", "demand forecasting for bakery branches", "sales, weather and holiday data"),
    ("food", "crop yield prediction from satellite imagery", "multispectral Sentinel-2 tiles"),
    ("health", "chest X-ray triage with vision transformers", "de-identified radiographs"),
    ("health", "protein structure prediction for rare diseases", "public structure databases"),
    ("energy-climate", "grid load forecasting with graph neural networks", "substation telemetry"),
    ("energy-climate", "regional climate downscaling", "reanalysis and station records"),
    ("mobility", "world models for autonomous driving", "fleet driving logs"),
    ("mobility", "traffic flow prediction for city planning", "loop detector counts"),
    ("education", "a retrieval-augmented assistant for citizen services", "municipal documents"),
    ("education", "automatic feedback on student essays", "anonymised essays with grades"),
    ("finance", "fraud detection on payment streams", "synthetic transaction data"),
    ("finance", "a multilingual language model for financial reports", "annual reports of EU companies"),
    ("manufacturing", "visual defect detection on production lines", "camera images from three plants"),
    ("manufacturing", "predictive maintenance for CNC machines", "vibration and spindle sensor data"),
    ("other", "speech recognition for regional dialects", "recorded interviews"),
]
SENTENCES = [
    "The model is trained on the booster partition and evaluated against a strong baseline.",
    "Results and the trained weights will be shared through the factory's catalog.",
    "The work plan has three phases: data preparation, training at scale and evaluation.",
    "We expect to reduce energy use and waste measurably in the first year.",
    "A pilot with two partners validates the approach before a wider roll-out.",
    "All data is processed in the EU; personal data is pseudonymised before transfer.",
]
ADJECTIVES = ["Scalable", "Efficient", "Trustworthy", "Open", "Federated", "Green", "Robust", "Explainable"]
FIRST = ["Anna", "Lars", "Claire", "Marco", "Eva", "Daan", "Sofia", "Jan", "Ines", "Piotr", "Mia", "Tomas"]
LAST = ["Petersen", "Jensen", "Martin", "Rossi", "Schmitz", "de Vries", "Novak", "Garcia", "Kowalski", "Berg"]
ROLES = ["PI", "ML engineer", "data scientist", "domain expert", "HPC advisor"]
REJECTIONS = ["Out of scope of the call.", "Insufficient technical readiness.", "Data access not demonstrated."]
MODE_WEIGHTS = {"playground": 50, "fast_lane": 35, "large_scale": 15}
REQUESTED = {
    "playground": [100, 200, 250, 300, 500, 500, 800, 1000, 1000, 1500, 2000],
    "fast_lane": [2_000, 4_000, 5_000, 8_000, 10_000, 15_000, 20_000, 30_000, 50_000],
    "large_scale": [60_000, 80_000, 100_000, 150_000, 250_000, 400_000, 800_000, 1_500_000],
}
# open (recent) and settled (older) proposals
STATUS_RECENT = {"draft": 25, "submitted": 30, "under_review": 30, "accepted": 10, "rejected": 3, "withdrawn": 2}
STATUS_OLD = {"draft": 9, "submitted": 0, "under_review": 1, "accepted": 50, "rejected": 32, "withdrawn": 8}


@dataclass(frozen=True)
class Calls:
    """The calls proposals go to, per access mode: this round's, and the previous round's for proposals
    created before ``since`` (the same calls where there was no previous round)."""

    current: dict[str, Row]
    previous: dict[str, Row]
    since: date

    def pick(self, mode: str, created: datetime) -> Row:
        return (self.current if created.date() >= self.since else self.previous)[mode]


@dataclass(frozen=True)
class People:
    org_users: dict[int, list[int]]  # organization id -> its users (the first: an admin)
    reviewers: list[int]  # none: no reviews
    operator_id: int
    resources: dict[str, int]  # name -> id


@dataclass(frozen=True)
class Accepted:
    """An accepted proposal: a project and an allocation follow."""

    proposal: Row
    mode: str
    org_ids: list[int]
    start: date
    end: date


@dataclass
class Proposals:
    rows: list[Row] = field(default_factory=list)
    partners: list[Row] = field(default_factory=list)
    assignments: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)


@dataclass
class _Timeline:
    created: datetime
    updated: datetime
    submitted_at: datetime | None = None
    deadline: date | None = None
    decided_at: datetime | None = None
    decided_by: int | None = None
    awarded: int | None = None
    reason: str = ""


class ProposalMaker:
    def __init__(
        self,
        rng: random.Random,
        now: datetime,
        ids: Ids,
        audit: Audit,
        calls: Calls,
        people: People,
        history_days: float,
    ) -> None:
        self.rng, self.now, self.today, self.ids, self.audit = rng, now, now.date(), ids, audit
        self.calls, self.people, self.history_days = calls, people, history_days

    def make(self, n: int) -> Proposals:
        out = Proposals()
        for _ in range(n):
            self._one(out)
        return out

    def _one(self, out: Proposals) -> None:
        rng, orgs = self.rng, self.people.org_users
        pid = self.ids.take("proposals")
        org = rng.choice(list(orgs))
        author = rng.choice(orgs[org])
        mode = pick(rng, MODE_WEIGHTS)
        created = moment(rng, self.now, self.history_days)
        call = self.calls.pick(mode, created)
        status = self._status(mode, created)
        requested = rng.choice(REQUESTED[mode])
        when = self._timeline(call, mode, status, created, requested)
        row = self._row(pid, call, mode, org, author, status, requested, when)
        out.rows.append(row)
        self._audit(row, when)
        org_ids = [org, *self._partners(pid, org, out)]
        self._reviews(pid, call, status, when, out)
        if status == "accepted" and when.decided_at is not None:
            start = when.decided_at.date()
            end = add_months(start, row["duration_months"]) - timedelta(days=1)
            out.accepted.append(Accepted(row, mode, sorted(org_ids), start, end))

    def _status(self, mode: str, created: datetime) -> str:
        status = pick(self.rng, STATUS_RECENT if (self.now - created).days < 30 else STATUS_OLD)
        if mode == "playground" and status in ("submitted", "under_review"):
            return "accepted"  # auto-approved on submission (up to its threshold)
        if mode != "large_scale" and status == "under_review" and self.rng.random() < 0.5:
            return "submitted"
        return status

    def _timeline(self, call: Row, mode: str, status: str, created: datetime, requested: int) -> _Timeline:
        rng, now = self.rng, self.now
        when = _Timeline(created=created, updated=created)
        if status != "draft" and not (status == "withdrawn" and rng.random() < 0.4):
            when.submitted_at = when.updated = min(now, created + timedelta(days=rng.uniform(0.05, 8)))
            when.deadline = when.submitted_at.date() + timedelta(days=call["decision_working_days"] * 7 // 5 + 1)
        if status in ("submitted", "under_review"):
            # open proposals: a spread of deadlines, so that the lists show overdue, due soon and on track
            when.submitted_at = when.updated = now - timedelta(days=rng.uniform(0, 16))
            when.created = min(created, when.submitted_at - timedelta(hours=2))
            when.deadline = self.today + timedelta(days=rng.randint(-6, 14))
        if status in ("accepted", "rejected"):
            self._decide(when, call, mode, status, requested)
        elif status == "withdrawn":
            when.updated = (when.submitted_at or created) + timedelta(days=rng.uniform(0, 5))
        return when

    def _decide(self, when: _Timeline, call: Row, mode: str, status: str, requested: int) -> None:
        rng = self.rng
        auto = mode == "playground" and status == "accepted"
        lag = 0 if auto else rng.uniform(1, 6) if mode == "fast_lane" else rng.uniform(8, 25)
        assert when.submitted_at is not None  # decided: submitted first
        when.decided_at = when.updated = min(self.now, when.submitted_at + timedelta(days=lag))
        when.decided_by = None if auto else self.people.operator_id
        if status == "rejected":
            when.reason = rng.choice(REJECTIONS)
            return
        when.awarded = requested if rng.random() < 0.7 else max(1, requested * 3 // 4)
        threshold = call["auto_approve_gpu_hours"]
        when.reason = f"auto-approved: {requested} ≤ {threshold} GPU-hours" if auto else "Feasible and impactful."

    def _row(
        self, pid: int, call: Row, mode: str, org: int, author: int, status: str, requested: int, when: _Timeline
    ) -> Row:
        rng = self.rng
        field_, topic, data = rng.choice(TOPICS)
        team = [
            {
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "email": f"member{pid}.{k}@example.org",
                "role": rng.choice(ROLES),
            }
            for k in range(rng.randint(0, 3))
        ]
        personal = field_ == "health" or rng.random() < 0.15
        resource = "develop" if mode == "playground" and rng.random() < 0.15 else "booster"
        return {
            "id": pid,
            "call_id": call["id"],
            "lead_organization_id": org,
            "author_id": author,
            "title": f"{rng.choice(ADJECTIVES)} {topic} ({pid})",
            "abstract": f"We propose {topic} using {data}. " + " ".join(rng.sample(SENTENCES, k=rng.randint(1, 4))),
            "application_field": field_,
            "requested_gpu_hours": requested,
            "resource_id": self.people.resources[resource],
            "duration_months": rng.choice(call["durations_months"]),
            "team": team,
            "risk_category": rng.choices(["minimal", "limited", "high"], [60, 25, 15])[0],
            "personal_data": personal,
            "health_data": field_ == "health" and rng.random() < 0.7,
            "dual_use": rng.random() < 0.03,
            "ethics_notes": "Data protection impact assessment done." if personal else "",
            "status": status,
            "submitted_at": when.submitted_at,
            "decision_deadline": when.deadline,
            "decided_at": when.decided_at,
            "decided_by": when.decided_by,
            "decision_reason": when.reason,
            "awarded_gpu_hours": when.awarded,
            "created_at": when.created,
            "updated_at": max(when.updated, when.created),
            "version": 1,
        }

    def _audit(self, row: Row, when: _Timeline) -> None:
        pid, author, status, event = row["id"], row["author_id"], row["status"], self.audit.event
        event(when.created, author, "proposal.created", "proposal", pid, {"title": row["title"]})
        if when.submitted_at is not None:
            was = {"status": "draft"}
            event(when.submitted_at, author, "proposal.submitted", "proposal", pid, {"status": "submitted"}, was)
        if when.decided_at is not None:
            auto = "proposal.auto_accepted" if when.decided_by is None else "proposal.accepted"
            action = auto if status == "accepted" else "proposal.rejected"
            event(
                when.decided_at, when.decided_by, action, "proposal", pid, {"status": status}, {"status": "submitted"}
            )
        elif status == "withdrawn":
            event(when.updated, author, "proposal.withdrawn", "proposal", pid, {"status": "withdrawn"})

    def _partners(self, pid: int, org: int, out: Proposals) -> list[int]:
        """Partners for about a fifth of the proposals."""
        others = [o for o in self.people.org_users if o != org]
        if not others or self.rng.random() >= 0.2:
            return []
        partners = self.rng.sample(others, k=min(len(others), self.rng.randint(1, 2)))
        out.partners += [{"proposal_id": pid, "organization_id": o} for o in partners]
        return partners

    def _reviews(self, pid: int, call: Row, status: str, when: _Timeline, out: Proposals) -> None:
        rng, needed = self.rng, call["required_reviews"]
        if not needed or not self.people.reviewers or status not in ("under_review", "accepted", "rejected"):
            return
        assert when.submitted_at is not None  # under review or decided: submitted first
        assigned_at = when.submitted_at + timedelta(hours=rng.uniform(2, 48))
        for rev in rng.sample(self.people.reviewers, min(needed, len(self.people.reviewers))):
            out.assignments.append(
                {
                    "id": self.ids.take("review_assignments"),
                    "proposal_id": pid,
                    "reviewer_id": rev,
                    "assigned_by": self.people.operator_id,
                    "assigned_at": assigned_at,
                }
            )
            if status == "under_review" and rng.random() >= 0.4:
                continue  # not reviewed yet
            out.reviews.append(
                {
                    "id": self.ids.take("reviews"),
                    "proposal_id": pid,
                    "reviewer_id": rev,
                    **{f"score_{k}": rng.randint(2, 5) for k in ("excellence", "impact", "feasibility")},
                    "comment_excellence": "Clear objectives.",
                    "comment_impact": "Relevant for the sector.",
                    "comment_feasibility": "Plan is realistic.",
                    "summary": "Solid proposal." if status != "rejected" else "Not ready yet.",
                    "submitted_at": min(self.now, assigned_at + timedelta(days=rng.uniform(0.5, 5))),
                }
            )
