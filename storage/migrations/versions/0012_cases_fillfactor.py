"""cases fillfactor: half of each page of cases is left free, so the day's new balances
(and other changes to unindexed columns) are written beside the old row version without
touching the indexes (PostgreSQL's heap-only updates). Rows already there keep their pages
until they move.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cases SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cases RESET (fillfactor)")
