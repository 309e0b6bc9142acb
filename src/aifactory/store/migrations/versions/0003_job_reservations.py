"""jobs: reserved GPU-seconds (a job's worst case), summed in SQL by allocation and state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('reserved_gpu_seconds', sa.Integer(), server_default='0', nullable=False))
        batch.create_index('ix_jobs_allocation_state', ['allocation_id', 'state'])


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_index('ix_jobs_allocation_state')
        batch.drop_column('reserved_gpu_seconds')
