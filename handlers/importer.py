"""Applying an arrears list: one file, one transaction; the same file twice changes nothing.

A new positive balance opens a case on day one; a balance of zero or less closes the open
case and thanks the tenant; every change is a case event. Tenants absent from the file are
left alone: a partial export must not close anyone's case.

The steps live in handlers/importing/: ``people`` (tenants, contact points, shared
addresses), then ``cases`` (snapshots, cases and their events, with ``notices`` to tenants
and ``plan_review`` of active plans).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from handlers.arrears_file import ArrearsFile
from handlers.importing.cases import sync_cases, sync_snapshots
from handlers.importing.people import mark_shared, sync_contact_points, sync_tenants
from messaging.outbox import Letterhead
from rules.policy import Policy
from storage.db import SessionMaker
from storage.models import ImportBatch
from storage.sql import plan_for_bulk, refresh_statistics

# After a bulk load PostgreSQL's planner still believes the tables are small until ANALYZE.
_REFRESH_STATISTICS_AFTER = 1000


@dataclass(frozen=True)
class ImportSummary:
    batch_id: int
    rows: int
    tenants_created: int
    opened: int
    updated: int
    closed: int
    already_imported: bool = False


async def import_arrears(
    sessions: SessionMaker,
    parsed: ArrearsFile,
    *,
    filename: str,
    policy: Policy,
    letterhead: Letterhead,
    available: Collection[str],
    now: datetime,
) -> ImportSummary:
    async with sessions() as session, session.begin():
        previous = await session.scalar(
            select(ImportBatch).where(ImportBatch.sha256 == parsed.sha256)
        )
        if previous is not None:
            return ImportSummary(previous.id, previous.rows, 0, 0, 0, 0, already_imported=True)
        batch = ImportBatch(
            sha256=parsed.sha256,
            filename=filename.encode("utf-8", "replace").decode().replace("\x00", "")[:300],
            rows=len(parsed.rows),
            opened=0,
            updated=0,
            closed=0,
            imported_at=now,
        )
        session.add(batch)
        await session.flush()
        await plan_for_bulk(session)
        rows = parsed.rows
        tenant_ids, created = await sync_tenants(session, rows, now)
        points = await sync_contact_points(session, rows, tenant_ids, now)
        await mark_shared(session, points)
        await sync_snapshots(session, rows, tenant_ids, batch.id)
        opened, updated, closed = await sync_cases(
            session, rows, tenant_ids, points, policy, letterhead, available, now
        )
        batch.opened, batch.updated, batch.closed = opened, updated, closed
        if created + opened >= _REFRESH_STATISTICS_AFTER:
            await refresh_statistics(session)
        return ImportSummary(batch.id, len(rows), created, opened, updated, closed)
