"""outbox claim order: the outbox index also holds the id, the claim's tie-break, so a claim
reads the rows it takes in index order instead of sorting every due message (a queue of
100,000 made each claim sort all of them)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_outbox")
        batch.create_index("ix_messages_outbox", ["status", "next_attempt_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_outbox")
        batch.create_index("ix_messages_outbox", ["status", "next_attempt_at"])
