"""Shared addresses, as the import flags them, against their definition: a contact point is
shared when another tenant has a live point on the same channel and address (its own may be
retired), on any mix of tenants, channels, addresses and retired points (SQLite and
PostgreSQL)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from handlers.importing.people import mark_shared
from storage.models import ContactPoint, Tenant

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def _shared_by_definition(points: list[tuple[int, int, str, str, bool]]) -> dict[int, bool]:
    """(id, tenant, channel, address, retired) → shared."""
    return {
        pid: any(
            other_tenant != tenant and not other_retired
            for _, other_tenant, other_channel, other_address, other_retired in points
            if (other_channel, other_address) == (channel, address)
        )
        for pid, tenant, channel, address, _ in points
    }


async def _tenant(session: AsyncSession, ref: str) -> int:
    made = await session.scalar(
        insert(Tenant)
        .values(
            external_ref=ref,
            name="Huurder",
            language="nl",
            monthly_rent_cents=65000,
            created_at=NOW,
            updated_at=NOW,
        )
        .returning(Tenant.id)
    )
    assert made is not None
    return made


@pytest.mark.parametrize("seed", range(6))
async def test_shared_is_another_tenants_live_point_on_the_same_address(
    runtime: Runtime, seed: int
) -> None:
    pick = random.Random(seed)
    async with runtime.sessions() as session, session.begin():
        tenants = [await _tenant(session, f"T{n}") for n in range(6)]
        wanted = {
            (pick.choice(tenants), pick.choice(["sms", "email"]), pick.choice("abcd"))
            for _ in range(18)
        }
        for tenant, channel, address in sorted(wanted):  # type: ignore[type-var]
            await session.execute(
                insert(ContactPoint).values(
                    tenant_id=tenant,
                    channel=channel,
                    address=address,
                    source="import",
                    verified=True,
                    failures=0,
                    # Start from a wrong flag half the time: both ways must be corrected.
                    shared=pick.random() < 0.5,
                    retired_at=NOW if pick.random() < 0.3 else None,
                    created_at=NOW,
                )
            )
        await mark_shared(session)
    async with runtime.sessions() as session:
        rows = list(
            await session.execute(
                select(
                    ContactPoint.id,
                    ContactPoint.tenant_id,
                    ContactPoint.channel,
                    ContactPoint.address,
                    ContactPoint.retired_at.is_not(None),
                    ContactPoint.shared,
                )
            )
        )
    expected = _shared_by_definition([(r[0], r[1], r[2], r[3], r[4]) for r in rows])
    assert {r[0]: r[5] for r in rows} == expected
    assert any(expected.values()) and not all(expected.values()), "a seed that tests little"


async def test_the_last_other_tenant_leaving_unshares(runtime: Runtime) -> None:
    async with runtime.sessions() as session, session.begin():
        ids = []
        for ref in ("A", "B"):
            tenant = await _tenant(session, ref)
            ids.append(
                await session.scalar(
                    insert(ContactPoint)
                    .values(
                        tenant_id=tenant,
                        channel="sms",
                        address="+31612345678",
                        source="import",
                        verified=True,
                        failures=0,
                        shared=False,
                        created_at=NOW,
                    )
                    .returning(ContactPoint.id)
                )
            )
        await mark_shared(session)
        flags = list(await session.scalars(select(ContactPoint.shared).order_by(ContactPoint.id)))
        assert flags == [True, True]
        await session.execute(delete(ContactPoint).where(ContactPoint.id == ids[1]))
        await mark_shared(session)
        assert list(await session.scalars(select(ContactPoint.shared))) == [False]
