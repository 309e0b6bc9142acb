"""portal sessions tied to the API token that opened them; catalog items awaiting approval

A portal session opened with an API token (and a password set from such a session) ends with that token.
A public catalog item from a non-operator waits for an operator's approval; slugs become unique per owner
organization and among the listed (public, approved) items, so that a slug taken by another organization's
private item confirms nothing. Existing items keep being listed (``approved``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LISTED = "visibility = 'public' AND approval = 'approved'"


def upgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_token_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_web_sessions_api_token_id_api_tokens"), "api_tokens", ["api_token_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_web_sessions_api_token_id"), ["api_token_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_token_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_users_password_token_id_api_tokens"), "api_tokens", ["password_token_id"], ["id"]
        )
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval", sa.String(length=32), server_default="approved", nullable=False))
        batch_op.add_column(sa.Column("approval_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_catalog_items_decided_by_users"), "users", ["decided_by"], ["id"])
        batch_op.create_index(batch_op.f("ix_catalog_items_approval"), ["approval"], unique=False)
        batch_op.drop_constraint("uq_catalog_items_kind_slug", type_="unique")
        batch_op.create_unique_constraint(
            "uq_catalog_items_kind_owner_slug", ["kind", "owner_organization_id", "slug"]
        )
    op.create_index(
        "uq_catalog_items_listed_slug",
        "catalog_items",
        ["kind", "slug"],
        unique=True,
        sqlite_where=sa.text(LISTED),
        postgresql_where=sa.text(LISTED),
    )


def downgrade() -> None:
    op.drop_index("uq_catalog_items_listed_slug", table_name="catalog_items")
    # one slug per kind again: the younger items sharing a slug get their id appended (nothing is deleted)
    op.execute(
        "UPDATE catalog_items SET slug = substr(slug, 1, 50) || '-' || CAST(id AS VARCHAR(12)) "
        "WHERE id NOT IN (SELECT min(id) FROM catalog_items GROUP BY kind, slug)"
    )
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.drop_constraint("uq_catalog_items_kind_owner_slug", type_="unique")
        batch_op.create_unique_constraint("uq_catalog_items_kind_slug", ["kind", "slug"])
        batch_op.drop_index(batch_op.f("ix_catalog_items_approval"))
        batch_op.drop_constraint(batch_op.f("fk_catalog_items_decided_by_users"), type_="foreignkey")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("approval_reason")
        batch_op.drop_column("approval")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_password_token_id_api_tokens"), type_="foreignkey")
        batch_op.drop_column("password_token_id")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_api_token_id"))
        batch_op.drop_constraint(batch_op.f("fk_web_sessions_api_token_id_api_tokens"), type_="foreignkey")
        batch_op.drop_column("api_token_id")
