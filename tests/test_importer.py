"""Importing arrears lists into a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.arrears_file import ArrearsFileError
from rules.clock import ManualClock
from storage.models import ContactPoint, Tenant
from tests.db_helpers import cases, events, messages, snapshot, table_counts
from tests.factories import HEADER, arrears_csv, row


async def test_new_arrears_open_a_case_on_day_one(runtime: Runtime) -> None:
    summary = await runtime.import_data(
        arrears_csv(row("T1"), row("T2", phone="", email="b@example.nl", balance="0")), "a.csv"
    )
    assert (summary.rows, summary.tenants_created, summary.opened, summary.closed) == (2, 2, 1, 0)
    (case,) = await cases(runtime)
    assert case.status == "open" and case.balance_cents == 65000 and case.stage == 0
    assert case.next_action_at is not None and case.next_action_at > runtime.clock.now()
    assert [e.kind for e in await events(runtime, case.id)] == ["opened"]
    counts = await table_counts(runtime)
    assert counts["contact_points"] == 3  # sms + whatsapp for T1, email for T2
    assert counts["arrears_snapshots"] == 2


async def test_the_same_file_twice_changes_nothing(runtime: Runtime, clock: ManualClock) -> None:
    data = arrears_csv(row("T1"), row("T2", balance="0"))
    await runtime.import_data(data, "a.csv")
    before = await snapshot(runtime)
    clock.advance(timedelta(hours=1))
    again = await runtime.import_data(data, "a-copy.csv")
    assert again.already_imported
    assert await snapshot(runtime) == before


async def test_the_same_rows_in_another_file_change_nothing_but_the_batch(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "a.csv")
    before = await snapshot(runtime)
    clock.advance(timedelta(hours=1))
    # Same content with other spacing: a new batch, but no tenant, case or event changes.
    summary = await runtime.import_data(arrears_csv(row("T1", balance=" 650,00 ")), "b.csv")
    assert (summary.opened, summary.updated, summary.closed) == (0, 0, 0)
    after = await snapshot(runtime)
    for table in (
        "tenants",
        "contact_points",
        "cases",
        "case_events",
        "arrears_snapshots",
        "messages",
    ):
        assert after[table] == before[table], table


async def test_a_bad_file_changes_nothing_and_names_every_line(runtime: Runtime) -> None:
    await runtime.import_data(arrears_csv(row("T1")), "good.csv")
    before = await snapshot(runtime)
    bad = arrears_csv(row("T1", balance="0"), row("T2", phone="0"), row("T3", balance="x"))
    with pytest.raises(ArrearsFileError) as caught:
        await runtime.import_data(bad, "bad.csv")
    assert [e.line for e in caught.value.errors] == [3, 4]
    assert await snapshot(runtime) == before


async def test_balance_changes_are_events_and_zero_closes_with_thanks(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", balance="650,00")), "d1.csv")
    clock.advance(timedelta(days=1))
    grown = await runtime.import_data(
        arrears_csv(row("T1", balance="1.300,00", as_of="02-12-2026")), "d2.csv"
    )
    assert grown.updated == 1
    clock.advance(timedelta(days=1))
    cleared = await runtime.import_data(
        arrears_csv(row("T1", balance="0,00", as_of="03-12-2026")), "d3.csv"
    )
    assert cleared.closed == 1
    (case,) = await cases(runtime)
    assert case.status == "closed" and case.close_reason == "paid" and case.next_action_at is None
    kinds = [e.kind for e in await events(runtime, case.id)]
    assert kinds == ["opened", "balance_changed", "balance_changed", "closed"]
    (thanks,) = await messages(runtime, template="thanks_cleared")
    assert thanks.channel == "whatsapp" and thanks.kind == "notice"
    assert "Bedankt" in thanks.body and "STOP" in thanks.body
    # A new arrears later opens a new case.
    clock.advance(timedelta(days=30))
    again = await runtime.import_data(
        arrears_csv(row("T1", balance="100", as_of="02-01-2027")), "d4.csv"
    )
    assert again.opened == 1
    assert [c.status for c in await cases(runtime)] == ["closed", "open"]


async def test_a_changed_phone_number_retires_the_old_one(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(arrears_csv(row("T1", phone="06-12345678")), "d1.csv")
    clock.advance(timedelta(days=1))
    await runtime.import_data(
        arrears_csv(row("T1", phone="06-87654321", as_of="02-12-2026")), "d2.csv"
    )
    async with runtime.sessions() as session:
        points = {
            (p.channel, p.address): p.retired_at is not None
            for p in await session.scalars(select(ContactPoint))
        }
    assert points == {
        ("sms", "+31612345678"): True,
        ("whatsapp", "+31612345678"): True,
        ("sms", "+31687654321"): False,
        ("whatsapp", "+31687654321"): False,
    }


async def test_the_street_is_kept_with_the_tenant_and_follows_the_list(
    runtime: Runtime, clock: ManualClock
) -> None:
    header = HEADER + ";street"
    await runtime.import_data(arrears_csv(row("T1") + ";Hoofdstraat", header=header), "d1.csv")
    clock.advance(timedelta(days=1))
    moved = row("T1", as_of="02-12-2026") + ";Kerkweg"
    summary = await runtime.import_data(arrears_csv(moved, header=header), "d2.csv")
    assert summary.tenants_created == 0
    async with runtime.sessions() as session:
        (street,) = await session.scalars(select(Tenant.street))
    assert street == "Kerkweg"


async def test_too_long_a_street_is_refused_on_both_databases_and_writes_nothing(
    runtime: Runtime,
) -> None:
    header = HEADER + ";street"
    data = arrears_csv(row("T1") + ";" + "S" * 201, header=header)
    with pytest.raises(ArrearsFileError, match="street: 201 characters, at most 200"):
        await runtime.import_data(data, "long.csv")
    assert (await table_counts(runtime))["tenants"] == 0


async def test_a_list_dated_after_tomorrow_on_the_runtimes_clock_is_refused(
    runtime: Runtime, clock: ManualClock
) -> None:
    # The clock stands on 1 December 2026 (Amsterdam): the 3rd is the day after tomorrow.
    data = arrears_csv(row("T1", as_of="02-12-2026"), row("T2", as_of="03-12-2026"))
    with pytest.raises(ArrearsFileError) as caught:
        await runtime.import_data(data, "ahead.csv")
    assert [(e.line, e.reason.split(":")[0]) for e in caught.value.errors] == [(3, "as_of")]
    assert (await table_counts(runtime))["cases"] == 0
    clock.advance(timedelta(days=1))
    assert (await runtime.import_data(data, "ahead.csv")).opened == 2
