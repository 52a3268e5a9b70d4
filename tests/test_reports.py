"""The dashboard: the funnel of a period's cases and reply rates per stage and channel."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from rules.clock import ManualClock
from tests.factories import arrears_csv, row
from tests.test_workplace import log_in, make_user
from workplace import formats
from workplace.reports import FUNNEL_STEPS, bar_chart

Client = TestClient  # type: ignore[type-arg]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def test_funnel_and_reply_rates(client: Client, runtime: Runtime, clock: ManualClock) -> None:
    await runtime.import_data(
        arrears_csv(
            row("T1"),
            row("T2", name="Bob", phone="06-11111111"),
            row("T3", name="Carla", phone="06-22222222"),
            row("T4", name="Dirk", phone="06-33333333"),
        ),
        "d1.csv",
    )
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()  # four friendly reminders on WhatsApp

    async def say(phone: str, text: str) -> None:
        await runtime.receive(
            InboundMessage("whatsapp", phone, text, f"r-{phone}-{text}", clock.now())
        )

    await say("+31612345678", "hulp")  # Anna: reached, escalated
    await say("+31611111111", "ik kan 100 euro per maand")  # Bob: a plan…
    await say("+31611111111", "ja")  # …agreed
    clock.advance(timedelta(days=1))
    await runtime.import_data(  # Carla pays; the others still owe
        arrears_csv(
            row("T1", as_of="05-12-2026"),
            row("T2", name="Bob", phone="06-11111111", as_of="05-12-2026"),
            row("T3", name="Carla", phone="06-22222222", balance="0", as_of="05-12-2026"),
            row("T4", name="Dirk", phone="06-33333333", as_of="05-12-2026"),
        ),
        "d2.csv",
    )
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    data = await (await client.get("/api/reports?from=2026-11-01&to=2026-12-31")).json()
    assert data["funnel"] == {
        "opened": 4,
        "reached": 2,
        "plan_agreed": 1,
        "plan_kept": 0,  # Bob's first instalment is not due yet: nothing is kept so far
        "escalated": 1,
        "handed_over": 0,
        "signalled": 0,
        "paid": 1,
    }
    (rate,) = data["reply_rates"]
    assert (rate["template"], rate["channel"], rate["sent"], rate["replied"]) == (
        "reminder_friendly",
        "whatsapp",
        4,
        2,
    )
    page = await (await client.get("/reports?from=2026-11-01&to=2026-12-31")).text()
    assert "<svg" in page and "Betaald" in page and "Herinnering: vriendelijk" in page
    assert "reminder_friendly" not in page  # the page speaks in words, the API in codes
    empty = await (await client.get("/api/reports?from=2027-03-01&to=2027-03-31")).json()
    assert empty["funnel"]["opened"] == 0 and empty["reply_rates"] == []
    assert (await client.get("/reports?from=garbage")).status == 400

    # Bob pays his first instalment (due 1 January); the list after the grace days shows it.
    clock.advance(timedelta(days=35))
    await runtime.import_data(
        arrears_csv(
            row("T2", name="Bob", phone="06-11111111", balance="550,00", as_of="08-01-2027")
        ),
        "d3.csv",
    )
    assert await log_in(client, "marieke") == 303  # a month later: a new session
    data = await (await client.get("/api/reports?from=2026-11-01&to=2026-12-31")).json()
    assert data["funnel"]["plan_kept"] == 1


def _charts(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", page, re.S)]


def _bars(chart: ET.Element) -> list[tuple[ET.Element, ET.Element, ET.Element]]:
    """(label text, track, bar) per row of a chart."""
    rows = []
    for group in chart.findall(f"{SVG}g"):
        (label,) = group.findall(f"{SVG}text")
        track, bar = sorted(group.findall(f"{SVG}rect"), key=lambda r: r.get("class") != "track")
        rows.append((label, track, bar))
    return rows


def _share(rect: ET.Element) -> float:
    """A bar's width as a share of the drawing's width, in per cent."""
    width = rect.get("width", "")
    assert width.endswith("%"), f"bar width {width!r} is not a share of the drawing"
    return float(width[:-1])


async def test_the_charts_bars_are_proportional_and_labels_have_a_line_of_their_own(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.import_data(
        arrears_csv(row("T1"), row("T2", name="Bob", phone="06-11111111")), "d1.csv"
    )
    clock.advance(timedelta(days=3, hours=1))
    await runtime.tick()
    await runtime.dispatch()
    await runtime.receive(InboundMessage("whatsapp", "+31612345678", "hulp", "c-1", clock.now()))
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    data = await (await client.get("/api/reports?from=2026-11-01&to=2026-12-31")).json()
    page = await (await client.get("/reports?from=2026-11-01&to=2026-12-31")).text()
    funnel, rates = _charts(page)

    top = max(data["funnel"].values())
    for label, track, bar in _bars(funnel):
        value = int(bar.get("data-value", "-1"))
        assert abs(_share(bar) - 100 * value / top) < 0.01, label.text
        assert _share(track) == 100
    counts = [int(bar.get("data-value", "-1")) for _, _, bar in _bars(funnel)]
    assert counts == [data["funnel"][key] for key, _ in FUNNEL_STEPS] == [2, 1, 0, 0, 1, 0, 0, 0]

    # One reminder in two was answered: the bar fills half the width, not all of it.
    ((label, track, bar),) = _bars(rates)
    assert _share(bar) == 50 and "".join(label.itertext()) == (
        "Herinnering: vriendelijk · WhatsApp: 50%"
    )

    # Each label has a band of its own, above its bar: no bar or other label crosses it.
    for chart in (funnel, rates):
        bands = []
        for label, track, bar in _bars(chart):
            baseline, size = float(label.get("y", "0")), float(label.get("font-size", "0"))
            bands.append((baseline - size, baseline + 0.3 * size))  # ascent and descent
            (band,) = {(float(r.get("y", "0")), float(r.get("height", "0"))) for r in (track, bar)}
            bands.append((band[0], band[0] + band[1]))
        for (_, end), (start, _) in itertools.pairwise(bands):
            assert end <= start


def test_the_charts_numbers_are_in_the_readers_notation() -> None:
    rows = [("Verstuurd", 1234), ("Beantwoord", 56)]
    english = bar_chart(rows, number=lambda value: formats.number(value, "en"))
    dutch = bar_chart(rows, number=lambda value: formats.number(value, "nl"))
    assert 'aria-label="Verstuurd: 1,234; Beantwoord: 56"' in english and "1.234" not in english
    assert 'aria-label="Verstuurd: 1.234; Beantwoord: 56"' in dutch
    assert 'data-value="1234"' in english  # the value itself, for the drawing
