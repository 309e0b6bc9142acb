"""teams: invitations by e-mail, partner organizations' consent, scoped API tokens

An invitation to a project or an organization keeps only the SHA-256 of its link's token (single use, it
expires). A proposal naming a partner organization waits for that organization's admin to confirm
(``partner_consents``). An API token has a scope: full, read, jobs, or one project.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_invitations_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_invitations_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["invited_by"], ["users.id"], name=op.f("fk_invitations_invited_by_users")),
        sa.ForeignKeyConstraint(["accepted_by"], ["users.id"], name=op.f("fk_invitations_accepted_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitations_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitations_project_id"), ["project_id"], unique=False)
    op.create_table(
        "partner_consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_partner_consents_proposal_id_proposals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_partner_consents_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(["answered_by"], ["users.id"], name=op.f("fk_partner_consents_answered_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_consents")),
        sa.UniqueConstraint("proposal_id", "organization_id", name="uq_partner_consents_proposal_org"),
    )
    with op.batch_alter_table("partner_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_consents_organization_id"), ["organization_id"], unique=False)
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=16), server_default="full", nullable=False))
        batch_op.add_column(sa.Column("scope_project_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_scope_project_id_projects"), "projects", ["scope_project_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_tokens_scope_project_id_projects"), type_="foreignkey")
        batch_op.drop_column("scope_project_id")
        batch_op.drop_column("scope")
    op.drop_table("partner_consents")
    op.drop_table("invitations")
