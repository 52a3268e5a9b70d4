"""Throw-away PostgreSQL databases, for the test suite and the benchmarks."""

from __future__ import annotations

import socket
import uuid

import asyncpg
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import upgrade

LOCAL_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def local_postgres(configured: str | None) -> str | None:
    """``configured`` if set, else the local server's URL when it answers, else None."""
    if configured:
        return configured
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return LOCAL_POSTGRES
    except OSError:
        return None


async def migrated(url: str) -> str:
    """Bring the schema at ``url`` up to date; return the URL."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


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
