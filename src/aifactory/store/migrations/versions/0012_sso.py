"""single sign-on: providers' subjects linked to users, sign-ins under way

A person who signs in through an institution's OpenID Connect provider is linked to a user once (provider and
subject, unique); later sign-ins find the user by that link even when the e-mail address changes. A sign-in
under way keeps only the SHA-256 of its state (single use), and the one-time code the command line client
redeems for an API token only as a SHA-256 too.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sso_links_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_links")),
        sa.UniqueConstraint("provider", "subject", name="uq_sso_links_provider_subject"),
    )
    with op.batch_alter_table("sso_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_links_user_id"), ["user_id"], unique=False)
    op.create_table(
        "sso_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("cli_port", sa.Integer(), nullable=True),
        sa.Column("cli_challenge", sa.String(length=64), nullable=True),
        sa.Column("cli_state", sa.String(length=64), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_requests_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_requests")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_sso_requests_code_hash")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_requests_state_hash")),
    )
    with op.batch_alter_table("sso_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_requests_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sso_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_requests_expires_at"))
    op.drop_table("sso_requests")
    with op.batch_alter_table("sso_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_links_user_id"))
    op.drop_table("sso_links")
