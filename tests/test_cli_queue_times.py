"""`arrears-bot queue` says when a case came in on the corporation's clock, as a person
reads it; the database keeps UTC."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import Runtime
from bot.settings import Settings
from messaging.channels.base import InboundMessage
from storage.models import Case
from tests.factories import arrears_csv, row

runner = CliRunner()
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_the_queue_shows_local_time(db: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    listing = tmp_path / "arrears.csv"
    listing.write_bytes(arrears_csv(row("T1", as_of=datetime.now(AMSTERDAM).strftime("%d-%m-%Y"))))
    assert runner.invoke(app, ["import", str(listing)]).exit_code == 0

    async def tenant_asks_for_help() -> datetime:
        runtime = await Runtime.start(Settings())
        try:
            await runtime.receive(
                InboundMessage("whatsapp", "+31612345678", "hulp", "cli-t1", runtime.clock.now())
            )
            async with runtime.sessions() as session:
                escalated = await session.scalar(select(Case.escalated_at))
        finally:
            await runtime.close()
        assert escalated is not None
        return escalated

    escalated = asyncio.run(tenant_asks_for_help())
    listed = runner.invoke(app, ["queue"])
    (line,) = [text for text in listed.output.splitlines() if "T1" in text]
    # Amsterdam is one or two hours ahead of UTC all year: the two never read the same.
    assert f"{escalated.astimezone(AMSTERDAM):%Y-%m-%d %H:%M}" in line
    assert f"{escalated:%Y-%m-%d %H:%M}" not in line
