"""Throw-away PostgreSQL databases, for the test suite and the benchmarks."""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy.engine import make_url


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def create_database(url: str, prefix: str, template: str | None = None) -> str:
    """Create a database with a random name next to ``url``'s; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_admin_dsn(url))
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return with_database(url, name)


async def drop_database(url: str, admin_url: str) -> None:
    """Drop the database at ``url``, connected through ``admin_url`` (another database)."""
    name = make_url(url).database
    conn = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
