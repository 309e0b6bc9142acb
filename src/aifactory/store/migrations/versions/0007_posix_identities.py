"""posix identities of users and project groups (uid/gid allocated once, never reused)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _identity_table(name: str, owner: str, number: str) -> None:
    """posix_users / posix_groups: one identity per user / project, unique name and number."""
    op.create_table(
        name,
        sa.Column(f"{owner}_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(number, sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint([f"{owner}_id"], [f"{owner}s.id"], name=op.f(f"fk_{name}_{owner}_id_{owner}s")),
        sa.PrimaryKeyConstraint(f"{owner}_id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("name", name=op.f(f"uq_{name}_name")),
        sa.UniqueConstraint(number, name=op.f(f"uq_{name}_{number}")),
    )


def upgrade() -> None:
    _identity_table("posix_users", "user", "uid")
    _identity_table("posix_groups", "project", "gid")
    op.create_table(
        "posix_id_counters",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_posix_id_counters")),
    )


def downgrade() -> None:
    op.drop_table("posix_id_counters")
    op.drop_table("posix_groups")
    op.drop_table("posix_users")
