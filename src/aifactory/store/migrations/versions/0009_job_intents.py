"""job intents: cancel requested, submission retries with backoff

A cancel is stored before the scheduler is asked (the reconciler carries it out until the scheduler confirms
it); a hand-over the scheduler did not answer counts its attempts and when to try next.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancel_requested_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("submit_attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_jobs_cancel_requested_by_users"), "users", ["cancel_requested_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_jobs_cancel_requested_by_users"), type_="foreignkey")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("submit_attempts")
        batch_op.drop_column("cancel_requested_by")
        batch_op.drop_column("cancel_requested_at")
