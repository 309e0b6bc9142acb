"""project storage: stored files, resumable uploads, per-project quotas

Each project keeps files on the factory (``<data dir>/storage/<project id>/<name>``); a file is listed once its
upload completed and its sha256 was verified. Uploads under way hold their committed offset; an operator's quota
per project overrides the site's defaults (NULL: the default).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storage_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_storage_files_project_id_projects")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_storage_files_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_files")),
        sa.UniqueConstraint("project_id", "name", name="uq_storage_files_project_name"),
    )
    op.create_table(
        "storage_uploads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_storage_uploads_project_id_projects")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_storage_uploads_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_uploads")),
    )
    with op.batch_alter_table("storage_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storage_uploads_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_storage_uploads_updated_at"), ["updated_at"], unique=False)
    op.create_table(
        "storage_quotas",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("max_bytes", sa.BigInteger(), nullable=True),
        sa.Column("max_files", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_storage_quotas_project_id_projects")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_storage_quotas_updated_by_users")),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_storage_quotas")),
    )


def downgrade() -> None:
    op.drop_table("storage_quotas")
    with op.batch_alter_table("storage_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storage_uploads_updated_at"))
        batch_op.drop_index(batch_op.f("ix_storage_uploads_project_id"))
    op.drop_table("storage_uploads")
    op.drop_table("storage_files")
