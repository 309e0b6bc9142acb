"""portal sessions tied to the API token that opened them; catalog items awaiting approval

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that needs it


def downgrade() -> None:
    pass
