"""handovers to chain partners; municipal early signals and their export batches

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("partner_name", sa.String(length=200), nullable=False),
        sa.Column("partner_kind", sa.String(length=32), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_how", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("dossier", sa.JSON(), nullable=False),
        sa.Column("feedback", sa.String(length=32), nullable=True),
        sa.Column("feedback_note", sa.Text(), nullable=True),
        sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_handovers_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
    )
    op.create_index(op.f("ix_handovers_case_id"), "handovers", ["case_id"], unique=False)
    op.create_table(
        "signal_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_batches")),
    )
    op.create_table(
        "municipality_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=True),
        sa.Column("amount_euros", sa.BigInteger(), nullable=False),
        sa.Column("months_in_arrears", sa.Integer(), nullable=False),
        sa.Column("warm", sa.Boolean(), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column("row", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["signal_batches.id"],
            name=op.f("fk_municipality_signals_batch_id_signal_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_municipality_signals_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_municipality_signals")),
        sa.UniqueConstraint("case_id", name=op.f("uq_municipality_signals_case_id")),
    )
    op.create_index(
        op.f("ix_municipality_signals_batch_id"),
        "municipality_signals",
        ["batch_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_municipality_signals_batch_id"), table_name="municipality_signals")
    op.drop_table("municipality_signals")
    op.drop_table("signal_batches")
    op.drop_index(op.f("ix_handovers_case_id"), table_name="handovers")
    op.drop_table("handovers")
