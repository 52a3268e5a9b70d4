"""Persistence: SQLAlchemy models, engine and sessions, queries, Alembic migrations, importer."""
