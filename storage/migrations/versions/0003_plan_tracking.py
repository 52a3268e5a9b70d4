"""payment plan tracking: instalments checked and missed

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_plans") as batch:
        batch.add_column(
            sa.Column("checked_instalments", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("misses", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("payment_plans") as batch:
        batch.drop_column("misses")
        batch.drop_column("checked_instalments")
