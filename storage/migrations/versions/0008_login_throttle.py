"""login throttle: failed logins counted per client address and per name from an address;
the lock-out per account (users.failed_logins, users.locked_until) goes, since anyone who
knew a name could lock its owner out

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forget_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client", "name_key", name=op.f("pk_login_throttle")),
    )
    op.create_index(
        op.f("ix_login_throttle_forget_at"), "login_throttle", ["forget_at"], unique=False
    )
    with op.batch_alter_table("users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    # 0001 made the column without a server default; existing rows needed one above.
    with op.batch_alter_table("users") as batch:
        batch.alter_column("failed_logins", server_default=None)
    op.drop_index(op.f("ix_login_throttle_forget_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
