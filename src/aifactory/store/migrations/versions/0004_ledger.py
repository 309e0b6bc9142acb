"""ledger: entries, allocation sums, notifications, usage imports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('usage_imports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('scenario', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('imported', sa.BigInteger(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_imports')),
    sa.UniqueConstraint('sha256', 'scenario', name='uq_usage_imports_sha256_scenario')
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('allocation_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('webhook_state', sa.String(length=16), nullable=False),
    sa.Column('email_state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['allocation_id'], ['allocations.id'], name=op.f('fk_notifications_allocation_id_allocations')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_notifications_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('allocation_id', 'event', name='uq_notifications_allocation_event')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_allocation_id'), ['allocation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_project_id'), ['project_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('allocation_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('gpu_seconds', sa.BigInteger(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('scenario', sa.String(length=64), nullable=True),
    sa.Column('usage_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('usage_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ledger_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['allocation_id'], ['allocations.id'], name=op.f('fk_ledger_entries_allocation_id_allocations')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_ledger_entries_job_id_jobs')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_ledger_entries_project_id_projects')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_ledger_entries_resource_id_resources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('key', name=op.f('uq_ledger_entries_key'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_allocation_id'), ['allocation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_job_id'), ['job_id'], unique=False)
        batch_op.create_index('ix_ledger_entries_report', ['scenario', 'kind', 'period'], unique=False)

    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('granted_seconds', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('charged_seconds', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reserved_seconds', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('status_reason', sa.Text(), server_default=sa.text("''"), nullable=False))
        batch_op.add_column(sa.Column('low_priority', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True))
    _backfill()
    _make_ledger_append_only()


_APPEND_ONLY_PG = """
CREATE OR REPLACE FUNCTION ledger_entries_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'ledger_entries is append-only';
END; $$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
"""

_APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END",
    "CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries "
    "BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END",
]


def _make_ledger_append_only() -> None:
    """The ledger refuses UPDATE and DELETE at the database itself: corrections are new entries."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_PG)
    else:
        for statement in _APPEND_ONLY_SQLITE:
            op.execute(statement)


def _backfill() -> None:
    """Allocations made before the ledger get their grant entry; open jobs their reservation."""
    conn = op.get_bind()
    now = datetime.now(UTC)
    for alloc_id, project_id, resource_id, hours, created in conn.execute(sa.text(
            "SELECT id, project_id, resource_id, gpu_hours, created_at FROM allocations")):
        conn.execute(sa.text(
            "INSERT INTO ledger_entries (allocation_id, project_id, resource_id, kind, amount, gpu_seconds, source, "
            "period, at, reason, key) VALUES (:a, :p, :r, 'grant', :amount, 0, 'decision', :period, :at, "
            "'granted by the proposal decision', :key)"),
            {"a": alloc_id, "p": project_id, "r": resource_id, "amount": hours * 3600, "period": now.strftime("%Y-%m"),
             "at": now, "key": f"grant:allocation:{alloc_id}"})
        conn.execute(sa.text("UPDATE allocations SET granted_seconds = :s WHERE id = :a"),
                     {"s": hours * 3600, "a": alloc_id})
    for job_id, alloc_id, project_id, resource_id, amount in conn.execute(sa.text(
            "SELECT id, allocation_id, project_id, resource_id, reserved_gpu_seconds FROM jobs "
            "WHERE state NOT IN ('completed', 'failed', 'cancelled', 'timeout')")):
        conn.execute(sa.text(
            "INSERT INTO ledger_entries (allocation_id, project_id, resource_id, kind, amount, gpu_seconds, job_id, "
            "source, period, at, reason, key) VALUES (:a, :p, :r, 'reserve', :amount, 0, :j, 'gateway', :period, "
            ":at, 'worst case of an open job', :key)"),
            {"a": alloc_id, "p": project_id, "r": resource_id, "amount": amount, "j": job_id,
             "period": now.strftime("%Y-%m"), "at": now, "key": f"reserve:job:{job_id}"})
        conn.execute(sa.text("UPDATE allocations SET reserved_seconds = reserved_seconds + :s WHERE id = :a"),
                     {"s": amount, "a": alloc_id})



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_no_update ON ledger_entries")
        op.execute("DROP FUNCTION IF EXISTS ledger_entries_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_no_delete")
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('settled_at')

    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_column('low_priority')
        batch_op.drop_column('status_reason')
        batch_op.drop_column('reserved_seconds')
        batch_op.drop_column('charged_seconds')
        batch_op.drop_column('granted_seconds')

    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_report')
        batch_op.drop_index(batch_op.f('ix_ledger_entries_job_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_allocation_id'))

    op.drop_table('ledger_entries')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_project_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_allocation_id'))

    op.drop_table('notifications')
    op.drop_table('usage_imports')
