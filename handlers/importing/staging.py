"""The day's list in the database: a temporary table the set-based steps read from.

Rows arrive as a stream and go in by the thousand: PostgreSQL's COPY (asyncpg's
``copy_records_to_table``), SQLite's ``executemany``. Nothing of the list stays in Python
memory. The table lives as long as the import's transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import fields
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.arrears_file import ArrearsRow, LineError, Problems, duplicate
from storage.sql import analyze_quickly

# Columns the list gives, in ArrearsRow's names and order; then those the import works out.
LISTED = tuple(f.name for f in fields(ArrearsRow))
_TEXT = String  # lengths were checked by the parser against the real tables

rows = Table(
    "import_rows",
    MetaData(),
    Column("line", Integer, nullable=False),
    Column("tenant_ref", _TEXT, nullable=False),
    Column("name", _TEXT, nullable=False),
    Column("phone", _TEXT),
    Column("email", _TEXT),
    Column("language", _TEXT, nullable=False),
    Column("monthly_rent_cents", BigInteger, nullable=False),
    Column("balance_cents", BigInteger, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("street", _TEXT),
    Column("postcode", _TEXT),
    Column("house_number", _TEXT),
    Column("house_number_suffix", _TEXT),
    Column("city", _TEXT),
    Column("municipality", _TEXT),
    Column("administrator", _TEXT),
    Column("debt_assistance", Boolean, nullable=False),
    # Worked out by the import:
    Column("tenant_id", BigInteger),
    Column("case_id", BigInteger),  # the tenant's open case, or the one this list opened
    Column("previous_cents", BigInteger),  # that case's balance before this list
    Column("opened", Boolean, nullable=False, server_default=text("false")),
    # The open case needs more than a new balance (handlers/importing/one_by_one.py).
    Column("look", Boolean, nullable=False, server_default=text("false")),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_BATCH = 10_000
_NUDGE = 500  # rows read between the turns given to a write under way


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def create(session: AsyncSession) -> None:
    if not _postgres(session):
        # SQLite has no ON COMMIT DROP: a table left by a failed import on this connection
        # would still be there.
        await session.execute(text("DROP TABLE IF EXISTS temp.import_rows"))
    await session.run_sync(lambda sync: rows.create(sync.connection()))


async def drop(session: AsyncSession) -> None:
    """SQLite only; PostgreSQL drops it at commit."""
    if not _postgres(session):
        await session.execute(text("DROP TABLE IF EXISTS temp.import_rows"))


async def load(
    session: AsyncSession,
    stream: Iterator[ArrearsRow | LineError],
    problems: Problems,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Put every good row in the table and every bad line in ``problems``; returns the rows.
    Rows after a bad line are stored all the same: a tenant listed twice is found in the
    table, and the operator wants every problem of the file at once.

    A batch is written while the next one is read: the database (or SQLite's thread) works
    on one while Python parses the other."""
    postgres = _postgres(session)
    batch: list[tuple[Any, ...]] = []
    count = 0
    writing: asyncio.Task[None] | None = None
    try:
        for item in stream:
            if isinstance(item, LineError):
                problems.add(item)
                continue
            count += 1
            batch.append(_record(item, postgres))
            if len(batch) >= _BATCH:
                if writing is not None:
                    await writing
                writing = asyncio.create_task(_write(session, batch, postgres))
                batch = []
                if progress is not None:
                    progress(count)
            if count % _NUDGE == 0:
                await asyncio.sleep(0)  # the write under way goes on meanwhile
        if writing is not None:
            await writing
        if batch:
            await _write(session, batch, postgres)
    finally:
        # Reading failed half-way: the write under way ends before the session is used again.
        if writing is not None and not writing.done():
            await asyncio.wait([writing])
            if not writing.cancelled():
                writing.exception()  # the error raised is the reader's
    if progress is not None:
        progress(count)
    return count


def _record(row: ArrearsRow, postgres: bool) -> tuple[Any, ...]:
    values = [getattr(row, name) for name in LISTED]
    if not postgres:
        # sqlite3's own adapters for dates are deprecated; store as SQLAlchemy's Date does.
        values[LISTED.index("as_of")] = row.as_of.isoformat()
        values[LISTED.index("debt_assistance")] = int(row.debt_assistance)
    return tuple(values)


async def _write(session: AsyncSession, batch: list[tuple[Any, ...]], postgres: bool) -> None:
    connection = await session.connection()
    if postgres:
        raw = await connection.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            "import_rows", records=batch, columns=LISTED
        )
        return
    marks = ", ".join("?" for _ in LISTED)
    # Only our own column names go into the text; the values are parameters.
    statement = f"INSERT INTO import_rows ({', '.join(LISTED)}) VALUES ({marks})"  # noqa: S608
    await connection.exec_driver_sql(statement, batch)


async def index(session: AsyncSession) -> None:
    """After the load: building an index once beats keeping it up row by row."""
    await session.execute(text("CREATE INDEX import_rows_ref ON import_rows (tenant_ref)"))
    # Temporary tables are never analysed by autovacuum; the planner must see the rows.
    await analyze_quickly(session, "import_rows")


async def index_tenants(session: AsyncSession) -> None:
    await session.execute(text("CREATE INDEX import_rows_tenant ON import_rows (tenant_id)"))
    await analyze_quickly(session, "import_rows")


async def duplicates(session: AsyncSession) -> list[LineError]:
    """A tenant listed twice: each later line, with the first."""
    first = (
        select(rows.c.tenant_ref, func.min(rows.c.line).label("first"))
        .group_by(rows.c.tenant_ref)
        .having(func.count() > 1)
        .subquery()
    )
    found = await session.execute(
        select(rows.c.tenant_ref, rows.c.line, first.c.first)
        .join(first, first.c.tenant_ref == rows.c.tenant_ref)
        .where(rows.c.line > first.c.first)
        .order_by(rows.c.line)
    )
    return [duplicate(ref, line, earlier) for ref, line, earlier in found]
