"""a call's title and description in other languages

``calls.texts`` (JSON): ``{"de": {"title": …, "description": …}}``, shown to people who read the portal in that
language; an empty object for the calls that exist (their own words are shown to everyone, as before).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the existing rows get an empty object; new rows always carry their own (no default in the database)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("texts", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("texts", existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("texts")
