"""Failed logins held off per client address, kept in the database so every `serve` process
counts the same attempts.

Two counters, each with the same rule:

* per address, whatever the names: guessing across many names from one place;
* per name typed *and* address: guessing one colleague's password. Only that address is held
  off the name, so a stranger's wrong passwords never keep the colleague out from her own.

Both count the name as typed, whether an account has it or not: a held-off unknown name
behaves exactly like a held-off real one, and no answer tells which names exist. The name is
stored as its SHA-256, since people now and then type their password into the name field.

An attempt is charged before its password is checked and refunded when it was right, so a
burst of parallel attempts cannot all slip in before the first failure is written.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginThrottle
from storage.sql import insert_ignoring_conflicts

ANY_NAME = ""  # the key of an address's own counter; a name's key is a 64-digit hash


class Held(StrEnum):
    CLIENT = "client_held"  # too many failures from this address
    NAME = "name_held"  # too many failures for this name from this address


@dataclass(frozen=True)
class Limit:
    failures: int  # this many within the window hold the address off
    window: timedelta
    hold: timedelta


@dataclass(frozen=True)
class Limits:
    per_name: Limit
    per_client: Limit


def limits(*, per_name: int, per_client: int, window_minutes: int, hold_minutes: int) -> Limits:
    window, hold = timedelta(minutes=window_minutes), timedelta(minutes=hold_minutes)
    return Limits(Limit(per_name, window, hold), Limit(per_client, window, hold))


@dataclass(frozen=True)
class Count:
    failures: int
    since: datetime  # the start of the window
    held_until: datetime | None


def is_held(count: Count, now: datetime) -> bool:
    return count.held_until is not None and now < count.held_until


def charge(count: Count, now: datetime, limit: Limit) -> tuple[Count, bool]:
    """One more attempt, counted as failed until it proves right. False: held off, and not
    counted (a hold has a fixed end, however often someone knocks)."""
    if is_held(count, now):
        return count, False
    if count.held_until is not None or now >= count.since + limit.window:
        count = Count(0, now, None)  # a hold served, or a window gone by: a clean slate
    failures = count.failures + 1
    held_until = now + limit.hold if failures >= limit.failures else None
    return Count(failures, count.since, held_until), True


def refund(count: Count, limit: Limit) -> Count:
    """The charged attempt was right after all. Only its own charge goes: failures around it
    still count, so logging in to one's own account between guesses buys nothing."""
    failures = max(0, count.failures - 1)
    return Count(failures, count.since, count.held_until if failures >= limit.failures else None)


def forget_at(count: Count, limit: Limit) -> datetime:
    end = count.since + limit.window
    return max(end, count.held_until) if count.held_until is not None else end


def client_key(remote: str | None) -> str:
    """What counts as one client. An IPv6 line gets a whole /64 and could take a new address
    for every guess, so IPv6 counts by its /64."""
    try:
        address = ipaddress.ip_address((remote or "").split("%", 1)[0])
    except ValueError:
        return (remote or "unknown")[:64]  # no IP (a unix socket): one client for all
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def name_key(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


def _count(row: LoginThrottle) -> Count:
    return Count(row.failures, row.window_start, row.held_until)


def _store(row: LoginThrottle, count: Count, limit: Limit) -> None:
    row.failures, row.window_start, row.held_until = count.failures, count.since, count.held_until
    row.forget_at = forget_at(count, limit)


async def _locked_rows(
    session: AsyncSession, client: str, keys: Iterable[str], now: datetime
) -> dict[str, LoginThrottle]:
    """The counters, created when missing and locked for this transaction (SQLite: every
    transaction starts with BEGIN IMMEDIATE, storage.db), in a fixed order."""
    keys = sorted(set(keys))
    for key in keys:
        await session.execute(
            insert_ignoring_conflicts(session, LoginThrottle).values(
                client=client, name_key=key, failures=0, window_start=now, forget_at=now
            )
        )
    rows = await session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.client == client, LoginThrottle.name_key.in_(keys))
        .order_by(LoginThrottle.name_key)
        .with_for_update()
        # A row another process changed since this session last read it is read afresh.
        .execution_options(populate_existing=True)
    )
    return {row.name_key: row for row in rows}


async def admit(
    session: AsyncSession, client: str, username: str, now: datetime, limits: Limits
) -> Held | None:
    """Charge an attempt to the address and to the name from it. None: go on and check the
    password; otherwise what holds it off."""
    # Counters whose window and hold are over say nothing any more.
    await session.execute(delete(LoginThrottle).where(LoginThrottle.forget_at <= now))
    name = name_key(username)
    rows = await _locked_rows(session, client, (ANY_NAME, name), now)
    charged, admitted = charge(_count(rows[ANY_NAME]), now, limits.per_client)
    if not admitted:
        return Held.CLIENT
    _store(rows[ANY_NAME], charged, limits.per_client)
    # The address's charge stays when the name is held off: knocking on a held-off name
    # still counts towards holding the address off.
    charged, admitted = charge(_count(rows[name]), now, limits.per_name)
    if not admitted:
        return Held.NAME
    _store(rows[name], charged, limits.per_name)
    return None


async def succeeded(
    session: AsyncSession, client: str, username: str, now: datetime, limits: Limits
) -> None:
    """The password was right: the address gets this attempt back, and the name's slips from
    this address are forgiven."""
    name = name_key(username)
    rows = await _locked_rows(session, client, (ANY_NAME, name), now)
    _store(rows[ANY_NAME], refund(_count(rows[ANY_NAME]), limits.per_client), limits.per_client)
    await session.delete(rows[name])


async def release_name(session: AsyncSession, username: str) -> None:
    """A coordinator's unlock, or a new password: the name is open again from everywhere."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.name_key == name_key(username)))


async def held_names(session: AsyncSession, now: datetime) -> set[str]:
    """The name keys held off from at least one address (for the coordinators' list)."""
    found = await session.scalars(
        select(LoginThrottle.name_key).where(
            LoginThrottle.name_key != ANY_NAME, LoginThrottle.held_until > now
        )
    )
    return set(found)
