"""Tenants and their contact points as the arrears list has them, in a few statements over
the staged list (handlers/importing/staging.py), however long it is.

A phone gives an ``sms`` and a ``whatsapp`` contact point, an email an ``email`` one. A
number gone from the records is retired, never written to again; one listed for more than
one tenant is shared (reminders say nothing personal there).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    exists,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from handlers.importing.staging import LISTED, rows
from storage.models import ContactPoint, Tenant
from storage.sql import analyze_if_grown
from storage.types import UTCDateTime

# The list's columns that are the tenant's (phone and email become contact points).
TENANT_FIELDS = tuple(
    name
    for name in LISTED
    if name not in ("line", "tenant_ref", "phone", "email", "balance_cents", "as_of")
)
_POINT_COLUMNS = (
    "tenant_id",
    "channel",
    "address",
    "source",
    "verified",
    "failures",
    "shared",
    "created_at",
)
_tenants = cast(Table, Tenant.__table__)
_points = cast(Table, ContactPoint.__table__)


def _at(now: datetime) -> Any:
    return literal(now, UTCDateTime())


def _count(result: Any) -> int:
    return max(0, int(result.rowcount))


async def sync_tenants(session: AsyncSession, now: datetime) -> int:
    """Create the new tenants and update the changed ones. Returns how many were created.
    Each row's tenant id is noted with its case (handlers/importing/cases.identify)."""
    known = exists().where(_tenants.c.external_ref == rows.c.tenant_ref)
    created = await session.execute(
        insert(_tenants).from_select(
            ["external_ref", "created_at", "updated_at", *TENANT_FIELDS],
            select(rows.c.tenant_ref, _at(now), _at(now), *(rows.c[f] for f in TENANT_FIELDS))
            .where(~known)
            .order_by(rows.c.line),
        )
    )
    await analyze_if_grown(session, "tenants", _count(created))
    await session.execute(
        update(_tenants)
        .where(
            _tenants.c.external_ref == rows.c.tenant_ref,
            or_(*(_tenants.c[f].is_distinct_from(rows.c[f]) for f in TENANT_FIELDS)),
        )
        .values({**{f: rows.c[f] for f in TENANT_FIELDS}, "updated_at": _at(now)})
    )
    return _count(created)


def _wanted() -> Any:
    """Each row's contact points: (tenant_id, channel, address)."""

    def kind(channel: str, address: Any) -> Any:
        return select(
            rows.c.tenant_id, literal(channel).label("channel"), address.label("address")
        ).where(address.is_not(None))

    return union_all(
        kind("sms", rows.c.phone), kind("whatsapp", rows.c.phone), kind("email", rows.c.email)
    ).subquery("wanted")


async def sync_contact_points(session: AsyncSession, now: datetime) -> None:
    """Add the list's new contact points, retire those gone from it and bring back those
    listed again."""
    wanted = _wanted()
    have = exists().where(
        _points.c.tenant_id == wanted.c.tenant_id,
        _points.c.channel == wanted.c.channel,
        _points.c.address == wanted.c.address,
    )
    added = await session.execute(
        insert(_points).from_select(
            [*_POINT_COLUMNS],
            select(
                wanted.c.tenant_id,
                wanted.c.channel,
                wanted.c.address,
                literal("import"),
                true(),
                literal(0),
                literal(False),
                _at(now),
            )
            .where(~have)
            .order_by(wanted.c.tenant_id, wanted.c.channel, wanted.c.address),
        )
    )
    await analyze_if_grown(session, "contact_points", _count(added))
    # Matched on all three columns, so PostgreSQL can answer with one hash (anti-)join.
    listed = exists().where(
        wanted.c.tenant_id == _points.c.tenant_id,
        wanted.c.channel == _points.c.channel,
        wanted.c.address == _points.c.address,
    )
    from_import = _points.c.source == "import"
    # A number gone from the records may belong to someone else now.
    await session.execute(
        update(_points)
        .where(
            from_import,
            _points.c.retired_at.is_(None),
            _points.c.tenant_id.in_(select(rows.c.tenant_id)),
            ~listed,
        )
        .values(retired_at=_at(now))
    )
    await session.execute(
        update(_points)
        .where(from_import, _points.c.retired_at.is_not(None), listed)
        .values(retired_at=None)
    )


async def mark_shared(session: AsyncSession) -> None:
    """Flag every live contact point whose channel and address another tenant uses too, and
    unflag those no longer shared; one statement that writes only the rows that change."""
    other = aliased(ContactPoint)
    shared = (
        select(other.id)
        .where(
            other.channel == ContactPoint.channel,
            other.address == ContactPoint.address,
            other.tenant_id != ContactPoint.tenant_id,
            other.retired_at.is_(None),
        )
        .exists()
    )
    await session.execute(
        update(ContactPoint)
        .where(ContactPoint.shared != shared)
        .values(shared=shared)
        .execution_options(synchronize_session=False)
    )
