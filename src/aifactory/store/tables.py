"""The schema. Alembic migrations are the source of truth for databases; this mirrors head."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from ..domain.catalog import Approval, CatalogKind, Relation, Visibility
from ..domain.enums import (
    AccessMode,
    AllocationStatus,
    ApplicationField,
    Enforcement,
    OrgKind,
    ProjectRole,
    ProposalStatus,
    RiskCategory,
)
from ..domain.jobs.states import JobState
from ..domain.ledger import EntryKind
from .types import StrEnumType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


organizations = Table(
    "organizations",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", StrEnumType(OrgKind), nullable=False),
    Column("country", String(2), nullable=False),
    Column("sectors", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    _id(),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("organization_id", ForeignKey("organizations.id"), nullable=True, index=True),
    Column("is_operator", Boolean, nullable=False, default=False),
    Column("is_reviewer", Boolean, nullable=False, default=False),
    Column("is_org_admin", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_hash", String(255), nullable=True),  # argon2id; NULL: signs in with a token only
    # set from a portal session opened with this API token: the password works only while the token does
    Column("password_token_id", ForeignKey("api_tokens.id", use_alter=True), nullable=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    # opened with this API token (or with a password bound to it): the session ends when the token does
    Column("api_token_id", ForeignKey("api_tokens.id"), nullable=True, index=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

sites = Table(
    "sites",
    metadata,
    _id(),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("holiday_subdivision", String(8), nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

resources = Table(
    "resources",
    metadata,
    _id(),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("gpu_model", String(64), nullable=True),
    Column("nodes", Integer, nullable=False),
    Column("gpus_per_node", Integer, nullable=False),
    Column("cpus_per_node", Integer, nullable=False),
    Column("memory_gb_per_node", Integer, nullable=False),
    Column("gpu_billing_weight", Float, nullable=False, default=1.0),
    Column("cpu_billing_weight", Float, nullable=False, default=0.0),
    Column("memory_billing_weight", Float, nullable=False, default=0.0),
    UniqueConstraint("site_id", "name", name="uq_resources_site_name"),
)

calls = Table(
    "calls",
    metadata,
    _id(),
    Column("slug", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("access_mode", StrEnumType(AccessMode), nullable=False, index=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("opens_on", Date, nullable=False),
    Column("closes_on", Date, nullable=True),
    Column("closed", Boolean, nullable=False, default=False),
    Column("eligible_kinds", JSON, nullable=False),
    Column("eligible_countries", JSON, nullable=False),
    Column("min_gpu_hours", Integer, nullable=False),
    Column("max_gpu_hours", Integer, nullable=False),
    Column("auto_approve_gpu_hours", Integer, nullable=True),
    Column("required_reviews", Integer, nullable=False),
    Column("durations_months", JSON, nullable=False),
    Column("decision_working_days", Integer, nullable=False),
    Column("cutoff_days", JSON, nullable=False),
    Column("max_wall_hours", Integer, nullable=False),
    Column("enforcement", StrEnumType(Enforcement), nullable=False),
    Column("resource_ids", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

proposals = Table(
    "proposals",
    metadata,
    _id(),
    Column("call_id", ForeignKey("calls.id"), nullable=False, index=True),
    Column("lead_organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("author_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("abstract", Text, nullable=False),
    Column("application_field", StrEnumType(ApplicationField), nullable=False),
    Column("requested_gpu_hours", Integer, nullable=False),
    Column("resource_id", ForeignKey("resources.id"), nullable=False),
    Column("duration_months", Integer, nullable=False),
    Column("team", JSON, nullable=False),
    Column("risk_category", StrEnumType(RiskCategory), nullable=False),
    Column("personal_data", Boolean, nullable=False),
    Column("health_data", Boolean, nullable=False),
    Column("dual_use", Boolean, nullable=False),
    Column("ethics_notes", Text, nullable=False),
    Column("status", StrEnumType(ProposalStatus), nullable=False, index=True),
    Column("submitted_at", UTCDateTime, nullable=True),
    Column("decision_deadline", Date, nullable=True, index=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decided_by", ForeignKey("users.id"), nullable=True),
    Column("decision_reason", Text, nullable=False),
    Column("awarded_gpu_hours", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_proposals_status_deadline", "status", "decision_deadline", "id"),
)

proposal_partners = Table(
    "proposal_partners",
    metadata,
    Column("proposal_id", ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), primary_key=True, index=True),
)

review_assignments = Table(
    "review_assignments",
    metadata,
    _id(),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False, index=True),
    Column("reviewer_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("assigned_by", ForeignKey("users.id"), nullable=True),
    Column("assigned_at", UTCDateTime, nullable=False),
    UniqueConstraint("proposal_id", "reviewer_id", name="uq_review_assignments_proposal_reviewer"),
)

reviews = Table(
    "reviews",
    metadata,
    _id(),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False, index=True),
    Column("reviewer_id", ForeignKey("users.id"), nullable=False),
    Column("score_excellence", Integer, nullable=False),
    Column("score_impact", Integer, nullable=False),
    Column("score_feasibility", Integer, nullable=False),
    Column("comment_excellence", Text, nullable=False),
    Column("comment_impact", Text, nullable=False),
    Column("comment_feasibility", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("submitted_at", UTCDateTime, nullable=False),
    UniqueConstraint("proposal_id", "reviewer_id", name="uq_reviews_proposal_reviewer"),
)

projects = Table(
    "projects",
    metadata,
    _id(),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("slurm_account", String(30), nullable=False, unique=True),
    Column("lead_organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("organization_ids", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

project_members = Table(
    "project_members",
    metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True, index=True),
    Column("role", StrEnumType(ProjectRole), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

allocations = Table(
    "allocations",
    metadata,
    _id(),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("resource_id", ForeignKey("resources.id"), nullable=False),
    Column("gpu_hours", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("status", StrEnumType(AllocationStatus), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # the ledger's running sums, kept in the same transaction as its entries (check-ledger proves them)
    Column("granted_seconds", BigInteger, nullable=False, server_default="0"),
    Column("charged_seconds", BigInteger, nullable=False, server_default="0"),
    Column("reserved_seconds", BigInteger, nullable=False, server_default="0"),
    Column("status_reason", Text, nullable=False, server_default=text("''")),
    Column("low_priority", Boolean, nullable=False, server_default=false()),  # soft policy: quota overdrawn
)

audit_events = Table(
    "audit_events",
    metadata,
    _id(),
    Column("occurred_at", UTCDateTime, nullable=False, index=True),
    Column("actor_id", ForeignKey("users.id"), nullable=True, index=True),
    Column("action", String(64), nullable=False, index=True),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", Integer, nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Index("ix_audit_events_entity", "entity_type", "entity_id"),
)

jobs = Table(
    "jobs",
    metadata,
    _id(),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("allocation_id", ForeignKey("allocations.id"), nullable=False, index=True),
    Column("resource_id", ForeignKey("resources.id"), nullable=False),
    Column("submitted_by", ForeignKey("users.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("backend", String(32), nullable=False),
    Column("tasks", Integer, nullable=False),
    Column("reserved_gpu_seconds", Integer, nullable=False, server_default="0"),
    Column("state", StrEnumType(JobState), nullable=False, index=True),
    Column("backend_id", String(64), nullable=True, index=True),
    Column("exit_code", Integer, nullable=True),
    Column("reason", Text, nullable=False),
    Column("idempotency_key", String(128), nullable=True),
    Column("comment", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("submitted_at", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("settled_at", UTCDateTime, nullable=True),  # charged and released in the ledger
    # intents the reconciler carries out (0009): a cancel asked for, hand-overs retried with backoff
    Column("cancel_requested_at", UTCDateTime, nullable=True),
    Column("cancel_requested_by", ForeignKey("users.id"), nullable=True),
    Column("submit_attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    UniqueConstraint("project_id", "idempotency_key", name="uq_jobs_project_idempotency_key"),
    Index("ix_jobs_allocation_state", "allocation_id", "state"),
    Index("ix_jobs_project_started", "project_id", "started_at"),
)

job_events = Table(
    "job_events",
    metadata,
    _id(),
    Column("job_id", ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("state", StrEnumType(JobState), nullable=False),
    Column("detail", Text, nullable=False),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("allocation_id", ForeignKey("allocations.id"), nullable=True, index=True),
    Column("project_id", ForeignKey("projects.id"), nullable=True),
    Column("resource_id", ForeignKey("resources.id"), nullable=True),
    Column("kind", StrEnumType(EntryKind), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("gpu_seconds", BigInteger, nullable=False),
    Column("job_id", ForeignKey("jobs.id"), nullable=True, index=True),
    Column("source", String(32), nullable=False),
    Column("external_id", String(128), nullable=True),
    Column("scenario", String(64), nullable=True),
    Column("usage_start", UTCDateTime, nullable=True),
    Column("usage_end", UTCDateTime, nullable=True),
    Column("period", String(7), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", ForeignKey("users.id"), nullable=True),
    Column("reason", Text, nullable=False),
    Column("key", String(200), nullable=False, unique=True),
    Index("ix_ledger_entries_report", "scenario", "kind", "period"),
    Index("ix_ledger_entries_allocation_at", "allocation_id", "scenario", "at", "kind", "amount"),
)

notifications = Table(
    "notifications",
    metadata,
    _id(),
    Column("allocation_id", ForeignKey("allocations.id"), nullable=False, index=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("event", String(32), nullable=False),  # threshold-50 | threshold-80 | threshold-95 | expired | ...
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("webhook_state", String(16), nullable=False),  # pending | delivered | failed | off
    Column("email_state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=text("''")),
    Column("delivered_at", UTCDateTime, nullable=True),
    UniqueConstraint("allocation_id", "event", name="uq_notifications_allocation_event"),
)

usage_imports = Table(
    "usage_imports",
    metadata,
    _id(),
    Column("source", String(32), nullable=False),  # swf | alibaba
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("scenario", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # running | done | incomplete (skips: a rerun starts over)
    Column("position", BigInteger, nullable=False),  # checkpoint: records consumed so far (resumable)
    Column("imported", BigInteger, nullable=False),
    Column("skipped", JSON, nullable=False),  # reason -> count
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    UniqueConstraint("sha256", "scenario", name="uq_usage_imports_sha256_scenario"),
)

catalog_items = Table(
    "catalog_items",
    metadata,
    _id(),
    Column("kind", StrEnumType(CatalogKind), nullable=False, index=True),
    Column("slug", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("body", Text, nullable=False),  # markdown
    Column("owner_organization_id", ForeignKey("organizations.id"), nullable=True, index=True),  # None: built in
    Column("visibility", StrEnumType(Visibility), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("details", JSON, nullable=False),  # per kind (see domain.catalog)
    Column("job_id", ForeignKey("jobs.id"), nullable=True, index=True),  # the job that produced it
    Column("created_by", ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # a public item from a non-operator is listed once an operator approved it (domain.catalog.Approval)
    Column("approval", StrEnumType(Approval), nullable=False, server_default="approved", index=True),
    Column("approval_reason", Text, nullable=True),
    Column("decided_by", ForeignKey("users.id"), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    # slugs are unique per owner organization (so a slug taken elsewhere confirms nothing), and among the
    # listed (public, approved) items of a kind; site items (no owner) are public, so the second covers them
    UniqueConstraint("kind", "owner_organization_id", "slug", name="uq_catalog_items_kind_owner_slug"),
    Index(
        "uq_catalog_items_listed_slug",
        "kind",
        "slug",
        unique=True,
        sqlite_where=text("visibility = 'public' AND approval = 'approved'"),
        postgresql_where=text("visibility = 'public' AND approval = 'approved'"),
    ),
)

catalog_links = Table(  # provenance: dataset -used-in-> job <-produced-by- model -trained-on-> dataset
    "catalog_links",
    metadata,
    _id(),
    Column("from_item_id", ForeignKey("catalog_items.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("relation", StrEnumType(Relation), nullable=False),
    Column("to_item_id", ForeignKey("catalog_items.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("job_id", ForeignKey("jobs.id"), nullable=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# POSIX identities (domain.posix): allocated once, never reused (ids come from counters that only grow)


def _identity_table(name: str, owner: str, number: str) -> Table:
    """One identity per owner row (``<table>_id``): a unique POSIX name and a unique number."""
    return Table(
        name,
        metadata,
        Column(f"{owner}_id", ForeignKey(f"{owner}s.id"), primary_key=True),
        Column("name", String(32), nullable=False, unique=True),
        Column(number, Integer, nullable=False, unique=True),
        Column("created_at", UTCDateTime, nullable=False),
    )


posix_users = _identity_table("posix_users", "user", "uid")
posix_groups = _identity_table("posix_groups", "project", "gid")

posix_id_counters = Table(  # the last uid / gid handed out ("uid", "gid"); one row each, locked to allocate
    "posix_id_counters",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("last_id", Integer, nullable=False),
)
