"""job intents: cancel requested, submission retries with backoff

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that needs it


def downgrade() -> None:
    pass
