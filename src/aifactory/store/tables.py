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
from .types import QuestionsType, StrEnumType, UTCDateTime

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
    Column("language", String(8), nullable=False, server_default="en"),  # e-mails and notifications (0011)
    Column("email_verified_at", UTCDateTime, nullable=True),  # NULL: an unverified sign-up (0013)
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
    Column("scope", String(16), nullable=False, server_default="full"),  # domain.teams.TokenScope (0014)
    Column("scope_project_id", ForeignKey("projects.id"), nullable=True),
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
    # self-service limits of auto-approval per lead organization (0011; NULL: no cap)
    Column("self_service_max_proposals", Integer, nullable=True, server_default="2"),
    Column("self_service_max_gpu_hours", Integer, nullable=True, server_default="2000"),
    Column("self_service_period_months", Integer, nullable=False, server_default="12"),
    Column("questions", QuestionsType, nullable=False, default=list),  # domain.questions (0015)
    Column("texts", JSON, nullable=False, default=dict),  # title and description in other languages (0016)
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
    Column("held_reason", Text, nullable=False, server_default=text("''")),  # over a self-service limit (0011)
    Column("answers", JSON, nullable=False, default=dict),  # to the call's questions (0015)
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
    # the reviewer's declaration of interests before scoring (0015)
    Column("declared_at", UTCDateTime, nullable=True),
    Column("conflict", Boolean, nullable=True),
    Column("conflict_note", Text, nullable=False, server_default=text("''")),
    UniqueConstraint("proposal_id", "reviewer_id", name="uq_review_assignments_proposal_reviewer"),
)

proposal_attachments = Table(  # one PDF per attachment question; the bytes under <data dir>/proposals (0015)
    "proposal_attachments",
    metadata,
    _id(),
    Column("proposal_id", ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(40), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", ForeignKey("users.id"), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
    UniqueConstraint("proposal_id", "key", name="uq_proposal_attachments_proposal_key"),
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

notifications = Table(  # the outbox: one row per event (0011: for people, not only allocations)
    "notifications",
    metadata,
    _id(),
    Column("allocation_id", ForeignKey("allocations.id"), nullable=True, index=True),
    Column("project_id", ForeignKey("projects.id"), nullable=True, index=True),
    Column("event", String(32), nullable=False),  # threshold-50 | expired | proposal-accepted | ... (domain)
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("webhook_state", String(16), nullable=False),  # pending | delivered | failed | off
    Column("email_state", String(16), nullable=False),  # the recipients' e-mails, summed up
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=text("''")),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("dedup_key", String(200), nullable=False, unique=True),  # each event is raised once
    Column("data", JSON, nullable=True),  # what its texts are filled with
    Column("secret", JSON, nullable=True),  # links with single-use tokens: wiped once the e-mails are settled
    Column("proposal_id", ForeignKey("proposals.id"), nullable=True),
    Column("job_id", ForeignKey("jobs.id"), nullable=True),
    Column("next_attempt_at", UTCDateTime, nullable=True),  # the webhook's backoff
    Index(
        "ix_notifications_webhook_pending",
        "next_attempt_at",
        sqlite_where=text("webhook_state = 'pending'"),
        postgresql_where=text("webhook_state = 'pending'"),
    ),
)

notification_recipients = Table(  # who a notification is for: the inbox and the e-mail of each person
    "notification_recipients",
    metadata,
    _id(),
    Column("notification_id", ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=True),  # NULL: an address only
    Column("email", String(254), nullable=True),  # the address of a person without an account
    Column("language", String(8), nullable=False),
    Column("in_inbox", Boolean, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
    Column("email_state", String(16), nullable=False),  # pending | delivered | failed | off
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=False, server_default=text("''")),
    Column("sent_at", UTCDateTime, nullable=True),
    UniqueConstraint("notification_id", "user_id", name="uq_notification_recipients_notification_user"),
    Index("ix_notification_recipients_inbox", "user_id", "in_inbox", "notification_id"),
    Index(  # the unread count in every page's header: one COUNT over this index
        "ix_notification_recipients_unread",
        "user_id",
        sqlite_where=text("in_inbox AND read_at IS NULL"),
        postgresql_where=text("in_inbox AND read_at IS NULL"),
    ),
    Index(
        "ix_notification_recipients_email_pending",
        "next_attempt_at",
        sqlite_where=text("email_state = 'pending'"),
        postgresql_where=text("email_state = 'pending'"),
    ),
)

notification_preferences = Table(  # a person's channel per topic (domain.notifications); none: the default
    "notification_preferences",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("topic", String(32), primary_key=True),
    Column("channel", String(16), nullable=False),  # email | inbox | off
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


# single sign-on (domain.sso): a provider's subject linked to a user; sign-ins under way (single use)

sso_links = Table(
    "sso_links",
    metadata,
    _id(),
    Column("provider", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("email", String(254), nullable=True),  # what the provider said last (the link holds when it changes)
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_sign_in_at", UTCDateTime, nullable=False),
    UniqueConstraint("provider", "subject", name="uq_sso_links_provider_subject"),
)

sso_requests = Table(
    "sso_requests",
    metadata,
    _id(),
    Column("state_hash", String(64), nullable=False, unique=True),  # SHA-256 of the state; nothing secret kept
    Column("provider", String(64), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("next_path", String(500), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("identity", JSON, nullable=True),  # a new person's verified claims while they name their organization
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("cli_port", Integer, nullable=True),
    Column("cli_challenge", String(64), nullable=True),
    Column("cli_state", String(64), nullable=True),
    Column("code_hash", String(64), nullable=True, unique=True),
    Column("code_expires_at", UTCDateTime, nullable=True),
    Column("code_used_at", UTCDateTime, nullable=True),
)


# project storage (domain.storage): files visible once their upload completed, uploads under way, quotas

storage_files = Table(
    "storage_files",
    metadata,
    _id(),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("name", String(1024), nullable=False),  # a relative path (domain.storage.check_name), <= 1024 bytes
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_by", ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_storage_files_project_name"),
)

storage_uploads = Table(  # resumable uploads: the bytes go to a private file until the upload completes
    "storage_uploads",
    metadata,
    _id(),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("name", String(1024), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("received", BigInteger, nullable=False),  # bytes in from the start: where the upload resumes
    Column("created_by", ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, index=True),  # abandoned uploads expire after a while
)

storage_quotas = Table(  # an operator's quota for a project; NULL: the site's default
    "storage_quotas",
    metadata,
    Column("project_id", ForeignKey("projects.id"), primary_key=True),
    Column("max_bytes", BigInteger, nullable=True),
    Column("max_files", Integer, nullable=True),
    Column("updated_by", ForeignKey("users.id"), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

invitations = Table(  # e-mail invitations to a project or an organization (0014); only the token's hash is kept
    "invitations",
    metadata,
    _id(),
    Column("kind", String(16), nullable=False),
    Column("email", String(254), nullable=False),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("invited_by", ForeignKey("users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("accepted_at", UTCDateTime, nullable=True),
    Column("accepted_by", ForeignKey("users.id"), nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

partner_consents = Table(  # a partner organization's answer to a proposal naming it (0014)
    "partner_consents",
    metadata,
    _id(),
    Column("proposal_id", ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("answered_by", ForeignKey("users.id"), nullable=True),
    UniqueConstraint("proposal_id", "organization_id", name="uq_partner_consents_proposal_org"),
)


# accounts that hold (domain.accounts, 0013): links e-mailed to verify an address or reset a password

account_tokens = Table(
    "account_tokens",
    metadata,
    _id(),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),  # verify | reset
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the link's token
    Column("email", String(254), nullable=False),  # the address the link was sent to
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),  # single use
)
