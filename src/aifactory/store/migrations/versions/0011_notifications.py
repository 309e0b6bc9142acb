"""notifications for people: recipients (inbox, e-mail), preferences, users' language; self-service limits

Notifications are no longer tied to an allocation: each has a unique dedup key (the old ones
``allocation:<id>:<event>``), data for its texts, and recipients with their own inbox and e-mail state
(existing notifications get their projects' members, already read). Calls get self-service limits of
auto-approval (2 live proposals and 2,000 GPU-hours per organization in 12 months by default), proposals the
reason they wait for an operator.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WEBHOOK_PENDING = "webhook_state = 'pending'"
EMAIL_PENDING = "email_state = 'pending'"
UNREAD = "in_inbox AND read_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), server_default="en", nullable=False))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("self_service_max_proposals", sa.Integer(), server_default="2", nullable=True))
        batch_op.add_column(sa.Column("self_service_max_gpu_hours", sa.Integer(), server_default="2000", nullable=True))
        batch_op.add_column(sa.Column("self_service_period_months", sa.Integer(), server_default="12", nullable=False))
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_reason", sa.Text(), server_default=sa.text("''"), nullable=False))
    _notifications_up()
    _recipients_up()
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "topic", name=op.f("pk_notification_preferences")),
    )


def _notifications_up() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("allocation_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("dedup_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("secret", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("proposal_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_proposal_id_proposals"), "proposals", ["proposal_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_notifications_job_id_jobs"), "jobs", ["job_id"], ["id"])
    n = sa.table("notifications", sa.column("dedup_key"), sa.column("allocation_id"), sa.column("event"))
    key = sa.literal("allocation:") + sa.cast(n.c.allocation_id, sa.String) + sa.literal(":") + n.c.event
    op.execute(n.update().values(dedup_key=key))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("dedup_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_constraint("uq_notifications_allocation_event", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_notifications_dedup_key"), ["dedup_key"])
        batch_op.create_index(
            "ix_notifications_webhook_pending",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text(WEBHOOK_PENDING),
            postgresql_where=sa.text(WEBHOOK_PENDING),
        )


def _recipients_up() -> None:
    op.create_table(
        "notification_recipients",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("in_inbox", sa.Boolean(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_recipients_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_recipients_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_recipients")),
        sa.UniqueConstraint("notification_id", "user_id", name="uq_notification_recipients_notification_user"),
    )
    with op.batch_alter_table("notification_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_recipients_notification_id"), ["notification_id"], unique=False
        )
        batch_op.create_index(
            "ix_notification_recipients_inbox", ["user_id", "in_inbox", "notification_id"], unique=False
        )
        batch_op.create_index(
            "ix_notification_recipients_unread",
            ["user_id"],
            unique=False,
            sqlite_where=sa.text(UNREAD),
            postgresql_where=sa.text(UNREAD),
        )
        batch_op.create_index(
            "ix_notification_recipients_email_pending",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text(EMAIL_PENDING),
            postgresql_where=sa.text(EMAIL_PENDING),
        )
    # the notifications raised before: their projects' members, read already, e-mail as it was
    n = sa.table(
        "notifications", sa.column("id"), sa.column("project_id"), sa.column("created_at"), sa.column("email_state")
    )
    m = sa.table("project_members", sa.column("project_id"), sa.column("user_id"))
    r = sa.table(
        "notification_recipients",
        *(sa.column(c) for c in ("notification_id", "user_id", "language", "in_inbox", "read_at", "email_state")),
    )
    rows = sa.select(n.c.id, m.c.user_id, sa.literal("en"), sa.true(), n.c.created_at, n.c.email_state).join(
        m, m.c.project_id == n.c.project_id
    )
    op.execute(r.insert().from_select(list(r.c), rows))


def downgrade() -> None:
    op.drop_table("notification_preferences")
    with op.batch_alter_table("notification_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_recipients_email_pending")
        batch_op.drop_index("ix_notification_recipients_unread")
        batch_op.drop_index("ix_notification_recipients_inbox")
        batch_op.drop_index(batch_op.f("ix_notification_recipients_notification_id"))
    op.drop_table("notification_recipients")
    op.execute("DELETE FROM notifications WHERE allocation_id IS NULL OR project_id IS NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_webhook_pending")
        batch_op.drop_constraint(batch_op.f("uq_notifications_dedup_key"), type_="unique")
        batch_op.create_unique_constraint("uq_notifications_allocation_event", ["allocation_id", "event"])
        batch_op.drop_constraint(batch_op.f("fk_notifications_job_id_jobs"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_notifications_proposal_id_proposals"), type_="foreignkey")
        for column in ("next_attempt_at", "job_id", "proposal_id", "secret", "data", "dedup_key"):
            batch_op.drop_column(column)
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("allocation_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("held_reason")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("self_service_period_months")
        batch_op.drop_column("self_service_max_gpu_hours")
        batch_op.drop_column("self_service_max_proposals")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
