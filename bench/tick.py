"""Throughput of the core loop: N due cases → tick + dispatch, in cases per second.

    python -m bench.tick [N] [WORKERS]

Runs on SQLite and, when reachable, PostgreSQL (ARREARS_BENCH_POSTGRES_URL or 127.0.0.1).
The sandbox channel answers at once, so the figure is the engine's own cost per message;
providers' rate limits (about 1 SMS/s per long code, 30 Telegram/s) are far below it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.common import arrears_file, backends, scratch_database
from bot.runtime import Runtime
from bot.settings import Settings
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import CHANNELS


async def measure(backend: str, cases: int, workers: int) -> None:
    async with scratch_database(backend) as url:
        clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        boxes = [SandboxChannel() for _ in range(workers)]
        runtimes = [
            await Runtime.start(
                settings, clock=clock, channels=dict.fromkeys(CHANNELS, box), migrate=False
            )
            for box in boxes
        ]
        try:
            await runtimes[0].import_data(arrears_file(cases), "bench.csv")
            clock.advance(timedelta(days=3, hours=1))
            started = time.perf_counter()
            ticks = await asyncio.gather(*(rt.tick() for rt in runtimes))
            ticked = time.perf_counter()
            await asyncio.gather(*(rt.dispatch() for rt in runtimes))
            done = time.perf_counter()
        finally:
            for rt in runtimes:
                await rt.close()
        queued = sum(t.queued for t in ticks)
        sent = sum(len(box.sent) for box in boxes)
        print(
            f"{backend:<10} workers={workers}  cases={cases:>6}  queued={queued:>6}  "
            f"sent={sent:>6}  tick {queued / (ticked - started):8.0f} cases/s  "
            f"dispatch {sent / (done - ticked):8.0f} msg/s  "
            f"together {sent / (done - started):8.0f} cases/s"
        )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    for backend in backends():
        asyncio.run(measure(backend, cases, workers))


if __name__ == "__main__":
    main()
