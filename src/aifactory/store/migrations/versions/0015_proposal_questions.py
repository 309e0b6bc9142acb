"""proposals worth reviewing: a call's own questions, the answers, PDF attachments, reviewers' declarations

A call lists the questions applicants answer beyond the standard fields (``calls.questions``, JSON); a proposal
keeps its answers by question (``proposals.answers``) and one PDF per attachment question
(``proposal_attachments``; the bytes under ``<data dir>/proposals``). A review assignment records the reviewer's
declaration of interests, made before scoring.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the existing rows get an empty list / object; new rows always carry their own (no default in the database)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("questions", existing_type=sa.JSON(), server_default=None)
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answers", sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.alter_column("answers", existing_type=sa.JSON(), server_default=None)
    with op.batch_alter_table("review_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("conflict", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("conflict_note", sa.Text(), server_default=sa.text("''"), nullable=False))
    # reviews made before declarations existed: their reviewers are taken to have declared no conflict then
    a = sa.table(
        "review_assignments",
        sa.column("proposal_id"),
        sa.column("reviewer_id"),
        sa.column("declared_at"),
        sa.column("conflict"),
    )
    r = sa.table("reviews", sa.column("proposal_id"), sa.column("reviewer_id"), sa.column("submitted_at"))
    reviewed = (
        sa.select(r.c.submitted_at)
        .where(r.c.proposal_id == a.c.proposal_id, r.c.reviewer_id == a.c.reviewer_id)
        .scalar_subquery()
    )
    op.execute(a.update().where(sa.exists(reviewed)).values(declared_at=reviewed, conflict=False))
    op.create_table(
        "proposal_attachments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_attachments_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_proposal_attachments_uploaded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_attachments")),
        sa.UniqueConstraint("proposal_id", "key", name="uq_proposal_attachments_proposal_key"),
    )


def downgrade() -> None:
    op.drop_table("proposal_attachments")
    with op.batch_alter_table("review_assignments", schema=None) as batch_op:
        batch_op.drop_column("conflict_note")
        batch_op.drop_column("conflict")
        batch_op.drop_column("declared_at")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_column("answers")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("questions")
