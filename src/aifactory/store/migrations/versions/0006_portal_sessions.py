"""portal: password hashes (argon2), server-side web sessions, indexes for the portal's pages

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))

    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)
    # the burn-down (an allocation's entries by day), the first job of each project, operators' queue
    op.create_index('ix_ledger_entries_allocation_at', 'ledger_entries',
                    ['allocation_id', 'scenario', 'at', 'kind', 'amount'], unique=False)
    op.create_index('ix_jobs_project_started', 'jobs', ['project_id', 'started_at'], unique=False)
    op.create_index('ix_proposals_status_deadline', 'proposals', ['status', 'decision_deadline', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_proposals_status_deadline', table_name='proposals')
    op.drop_index('ix_jobs_project_started', table_name='jobs')
    op.drop_index('ix_ledger_entries_allocation_at', table_name='ledger_entries')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
    op.drop_table('web_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_hash')
