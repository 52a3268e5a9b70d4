"""delivery guarantees: the claim a worker holds on a message, the shared send budget per
sender, and the inbox of tenants' messages waiting to be understood

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_messages_inbox",
        "messages",
        ["direction", "status", "channel", "address", "id"],
        unique=False,
    )
    op.create_table(
        "send_budgets",
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sender", name=op.f("pk_send_budgets")),
    )


def downgrade() -> None:
    op.drop_table("send_budgets")
    op.drop_index("ix_messages_inbox", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("claim_token")
