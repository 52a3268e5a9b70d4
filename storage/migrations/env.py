"""Alembic environment: always handed a live connection by storage.migrate.

No `logging.config.fileConfig` here, as Alembic's template has: the command has set up
logging already (bot.logs), and migrations speak only at WARNING unless it runs at DEBUG."""

from __future__ import annotations

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `arrears-bot db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
