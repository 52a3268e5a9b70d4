"""Importing a large arrears list: seconds and peak memory.

    python -m bench.import [ROWS]

Parses and applies a ROWS-line file (default 100,000) into an empty database, then imports
the next day's list with every balance changed, on SQLite and, when reachable, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import sys
import time
from datetime import UTC, datetime

from bench.common import arrears_file, backends, scratch_database
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.arrears_file import parse_arrears_file
from rules.clock import ManualClock


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(backend: str, rows: int) -> None:
    first = arrears_file(rows)
    second = arrears_file(rows, as_of="02-12-2026", shift=25)
    async with scratch_database(backend) as url:
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        clock = ManualClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
        runtime = await Runtime.start(settings, clock=clock, migrate=False)
        try:
            started = time.perf_counter()
            parse_arrears_file(first)
            parsed = time.perf_counter()
            summary = await runtime.import_data(first, "day1.csv")
            day1 = time.perf_counter()
            update = await runtime.import_data(second, "day2.csv")
            day2 = time.perf_counter()
        finally:
            await runtime.close()
    print(
        f"{backend:<10} rows={rows}  parse {parsed - started:5.1f} s  "
        f"first import {day1 - started:5.1f} s ({summary.opened} opened)  "
        f"next day {day2 - day1:5.1f} s ({update.updated} updated)  "
        f"peak RSS {peak_rss_mib():.0f} MiB  file {len(first) / 2**20:.1f} MiB"
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    for backend in backends():
        asyncio.run(measure(backend, rows))


if __name__ == "__main__":
    main()
