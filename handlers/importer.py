"""Applying an arrears list: one file, one transaction; the same file twice changes nothing.

The list streams into a temporary table (``importing.staging``: COPY on PostgreSQL,
executemany on SQLite) while it is checked line by line; a bad line anywhere, or a tenant
listed twice, and the transaction is undone: nothing changed. Then a handful of set-based
statements apply the day's changes: ``people`` (tenants, contact points, shared addresses),
then ``cases`` (snapshots, cases opened and changed, their events), and the few rows that
need a closer look one by one (``one_by_one``: paid, active plans, "I paid"). Memory does not
grow with the list. Tenants absent from the file are left alone: a partial export must not
close anyone's case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select, update

from handlers.arrears_file import ArrearsFileError, LineError, Problems
from handlers.arrears_source import ArrearsSource
from handlers.importing import staging
from handlers.importing.cases import identify, sync_cases, sync_snapshots
from handlers.importing.people import mark_shared, sync_contact_points, sync_tenants
from messaging.outbox import Letterhead
from rules.policy import Policy
from storage.db import SessionMaker
from storage.models import ImportBatch
from storage.sql import plan_for_bulk, refresh_statistics

# After a bulk load PostgreSQL's planner still believes the tables are small until ANALYZE.
_REFRESH_STATISTICS_AFTER = 1000
_batches = cast(Table, ImportBatch.__table__)


@dataclass(frozen=True)
class ImportSummary:
    batch_id: int
    rows: int
    tenants_created: int
    opened: int
    updated: int
    closed: int
    already_imported: bool = False


@dataclass(frozen=True)
class Progress:
    """How far an import has got, for a terminal's progress bar."""

    step: str  # "reading", then "applying"
    rows: int
    done_bytes: int
    total_bytes: int
    seconds: float


Watcher = Callable[[Progress], None]


async def import_arrears(
    sessions: SessionMaker,
    source: ArrearsSource,
    *,
    filename: str,
    policy: Policy,
    letterhead: Letterhead,
    available: Collection[str],
    now: datetime,
    progress: Watcher | None = None,
) -> ImportSummary:
    started = time.monotonic()
    total = source.size

    def tell(step: str, count: int) -> None:
        if progress is not None:
            done = source.position() if step == "reading" else total
            progress(Progress(step, count, done, total, time.monotonic() - started))

    async with sessions() as session, session.begin():
        previous = await session.scalar(
            select(ImportBatch).where(ImportBatch.sha256 == source.sha256)
        )
        if previous is not None:
            return ImportSummary(previous.id, previous.rows, 0, 0, 0, 0, already_imported=True)
        await plan_for_bulk(session)
        await staging.create(session)
        problems = Problems()
        count = await staging.load(session, source.read(), problems, lambda n: tell("reading", n))
        await staging.index(session)
        twice = await staging.duplicates(session)
        if problems or twice:
            raise problems.error(twice)
        if not count:
            raise ArrearsFileError([LineError(0, "the file has a header but no rows")])
        tell("applying", count)
        batch_id = await session.scalar(
            insert(_batches)
            .values(
                sha256=source.sha256,
                filename=filename.encode("utf-8", "replace").decode().replace("\x00", "")[:300],
                rows=count,
                opened=0,
                updated=0,
                closed=0,
                imported_at=now,
            )
            .returning(_batches.c.id)
        )
        assert batch_id is not None
        created = await sync_tenants(session, now)
        await identify(session)
        await staging.index_tenants(session)
        await sync_contact_points(session, now)
        await mark_shared(session)
        await sync_snapshots(session, batch_id)
        counts = await sync_cases(session, policy, letterhead, available, now)
        await session.execute(
            update(_batches)
            .where(_batches.c.id == batch_id)
            .values(opened=counts.opened, updated=counts.updated, closed=counts.closed)
        )
        if created + counts.opened >= _REFRESH_STATISTICS_AFTER:
            await refresh_statistics(session)
        await staging.drop(session)
        return ImportSummary(batch_id, count, created, counts.opened, counts.updated, counts.closed)
