"""Tenants and their contact points as the arrears list has them.

A phone gives an ``sms`` and a ``whatsapp`` contact point, an email an ``email`` one. A
number gone from the records is retired, never written to again; one listed for more than
one tenant is shared (reminders say nothing personal there).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from handlers.arrears_file import ArrearsRow
from handlers.importing.bulk import by_tenant, chunks, insert_many
from storage.models import ContactPoint, Tenant

# The row's fields that are the tenant's (phone and email become contact points).
_TENANT_FIELDS = tuple(
    f.name
    for f in fields(ArrearsRow)
    if f.name not in ("line", "tenant_ref", "phone", "email", "balance_cents", "as_of")
)


async def sync_tenants(
    session: AsyncSession, rows: list[ArrearsRow], now: datetime
) -> tuple[dict[str, int], int]:
    """Create the new tenants and update the changed ones. Returns each row's tenant id by
    reference, and how many were created."""
    existing = await _load_tenants(session, [row.tenant_ref for row in rows])
    new_rows = [row for row in rows if row.tenant_ref not in existing]
    new_ids = await insert_many(
        session,
        Tenant,
        [
            {
                "external_ref": row.tenant_ref,
                "created_at": now,
                "updated_at": now,
                **{name: getattr(row, name) for name in _TENANT_FIELDS},
            }
            for row in new_rows
        ],
        key=Tenant.external_ref,
    )
    changed = []
    for row in rows:
        tenant = existing.get(row.tenant_ref)
        if tenant is None:
            continue
        values = {name: getattr(row, name) for name in _TENANT_FIELDS}
        if any(getattr(tenant, name) != value for name, value in values.items()):
            changed.append({"id": tenant.id, "updated_at": now, **values})
    for chunk in chunks(changed):
        await session.execute(update(Tenant), list(chunk))
    ids = {ref: tenant.id for ref, tenant in existing.items()}
    ids.update(new_ids)
    return ids, len(new_rows)


async def _load_tenants(session: AsyncSession, refs: list[str]) -> dict[str, Tenant]:
    found: dict[str, Tenant] = {}
    for chunk in chunks(refs):
        for tenant in await session.scalars(select(Tenant).where(Tenant.external_ref.in_(chunk))):
            found[tenant.external_ref] = tenant
    return found


def _wanted_points(row: ArrearsRow) -> set[tuple[str, str]]:
    wanted = set()
    if row.phone:
        wanted |= {("sms", row.phone), ("whatsapp", row.phone)}
    if row.email:
        wanted.add(("email", row.email))
    return wanted


async def sync_contact_points(
    session: AsyncSession, rows: list[ArrearsRow], tenant_ids: dict[str, int], now: datetime
) -> dict[int, list[ContactPoint]]:
    """Add the list's new contact points, retire those gone from it and bring back those
    listed again. Returns every contact point of these tenants, by tenant id."""
    points = await by_tenant(session, ContactPoint, list(tenant_ids.values()))
    per_tenant: dict[int, list[ContactPoint]] = {}
    for point in points:
        per_tenant.setdefault(point.tenant_id, []).append(point)
    to_insert: list[dict[str, Any]] = []
    for row in rows:
        tenant_id = tenant_ids[row.tenant_ref]
        wanted = _wanted_points(row)
        have = {(p.channel, p.address): p for p in per_tenant.get(tenant_id, [])}
        for key in sorted(wanted - have.keys()):
            to_insert.append(
                {
                    "tenant_id": tenant_id,
                    "channel": key[0],
                    "address": key[1],
                    "source": "import",
                    "verified": True,
                    "failures": 0,
                    "created_at": now,
                }
            )
        for key, point in have.items():
            if point.source != "import":
                continue
            # A number gone from the records may belong to someone else now.
            if key not in wanted and point.retired_at is None:
                point.retired_at = now
            elif key in wanted and point.retired_at is not None:
                point.retired_at = None
    if to_insert:
        await insert_many(session, ContactPoint, to_insert)
        touched = sorted({values["tenant_id"] for values in to_insert})
        for tenant_id in touched:
            per_tenant[tenant_id] = []
        for point in await by_tenant(session, ContactPoint, touched):
            per_tenant[point.tenant_id].append(point)
    return per_tenant


async def mark_shared(session: AsyncSession, points: dict[int, list[ContactPoint]]) -> None:
    """Flag every live contact point whose channel and address another tenant uses too, and
    unflag those no longer shared; one statement that writes only the rows that change. The
    points already loaded learn the new value too: this import's notices read it."""
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
    result = await session.execute(
        update(ContactPoint)
        .where(ContactPoint.shared != shared)
        .values(shared=shared)
        .returning(ContactPoint.id, ContactPoint.shared)
        .execution_options(synchronize_session=False)
    )
    changed = {point_id: flag for point_id, flag in result}
    for loaded in points.values():
        for point in loaded:
            if point.id in changed:
                set_committed_value(point, "shared", changed[point.id])
