"""Importing a large arrears list, beside what the machine can do with the same file.

    python -m bench.import [ROWS ...]        (default: 10000 100000)

For each size and backend (SQLite and, when reachable, PostgreSQL), one child process:

- ours: ``arrears-bot import`` of a ROWS-line file into an empty database (first day), then
  the next day's list with every balance changed; seconds, rows/s and peak memory;
- the anchor, in the same process right after: the csv module parses the same file into
  typed tuples (cents, dates) and bulk-loads them into one plain table, PostgreSQL's COPY
  (asyncpg ``copy_records_to_table``) or SQLite's ``executemany`` in one transaction.

Targets (docs/ARCHITECTURE.md, Performance): 100,000 rows in < 5 s both days on both
backends, peak RSS < 300 MiB, memory flat up to 1,000,000 rows, cost linear in size.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.common import backends, scratch_database, write_arrears_file
from bot.runtime import Runtime
from bot.settings import Settings
from rules.clock import ManualClock

TARGET_SECONDS = 5.0
TARGET_RSS_MIB = 300


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _typed(path: Path) -> list[tuple[object, ...]]:
    """The anchor's parse: every field typed, the whole file in memory."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        out = []
        for ref, name, phone, email, lang, rent, balance, as_of, postcode, number in reader:
            day, month, year = as_of.split("-")
            out.append(
                (
                    ref,
                    name,
                    phone or None,
                    email or None,
                    lang,
                    int(rent.replace(",", "")),
                    int(balance.replace(",", "")),
                    date(int(year), int(month), int(day)),
                    postcode,
                    number,
                )
            )
    return out


_COLUMNS = "ref, name, phone, email, lang, rent, balance, as_of, postcode, number"


async def anchor(backend: str, url: str, path: Path) -> float:
    started = time.perf_counter()
    records = _typed(path)
    if backend == "sqlite":
        database = make_url(url).database
        assert database is not None
        with sqlite3.connect(database) as connection:
            connection.execute(f"CREATE TABLE anchor ({_COLUMNS})")
            connection.executemany(
                "INSERT INTO anchor VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*r[:7], r[7].isoformat(), *r[8:]) for r in records],  # type: ignore[union-attr]
            )
    else:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn)
        try:
            async with connection.transaction():
                await connection.execute(
                    "CREATE TABLE anchor (ref text, name text, phone text, email text, "
                    "lang text, rent bigint, balance bigint, as_of date, postcode text, "
                    "number text)"
                )
                await connection.copy_records_to_table("anchor", records=records)
        finally:
            await connection.close()
    return time.perf_counter() - started


async def measure(backend: str, rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "day1.csv", Path(folder) / "day2.csv"
        write_arrears_file(first, rows)
        write_arrears_file(second, rows, as_of="02-12-2026", shift=25)
        async with scratch_database(backend) as url:
            settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
            clock = ManualClock(datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
            runtime = await Runtime.start(settings, clock=clock, migrate=False)
            base = peak_rss_mib()  # the service started, before any list
            try:
                started = time.perf_counter()
                day1 = await runtime.import_file(first)
                first_s = time.perf_counter() - started
                started = time.perf_counter()
                day2 = await runtime.import_file(second)
                next_s = time.perf_counter() - started
            finally:
                await runtime.close()
            assert day1.opened == rows and day2.updated == rows, (day1, day2)
            rss = peak_rss_mib()
            anchor_s = await anchor(backend, url, first)
    return {"first": first_s, "next": next_s, "rss": rss, "base": base, "anchor": anchor_s}


def child(backend: str, rows: int) -> dict[str, float]:
    """Each measurement in its own process: peak memory is that run's alone."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.import", "--child", backend, str(rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(asyncio.run(measure(sys.argv[2], int(sys.argv[3])))))
        return
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 100_000]
    print(
        f"import: first day and next day (every balance changed) vs the anchor "
        f"(csv + typed + bulk load); target < {TARGET_SECONDS:g} s at 100,000 rows, "
        f"peak RSS < {TARGET_RSS_MIB} MiB"
    )
    for backend in backends():
        previous: tuple[int, float] | None = None
        for rows in sizes:
            got = child(backend, rows)
            line = (
                f"{backend:<10} {rows:>9,} rows  first {got['first']:6.2f} s "
                f"({rows / got['first']:>7,.0f} rows/s)  next {got['next']:6.2f} s  "
                f"anchor {got['anchor']:5.2f} s  ratio {got['first'] / got['anchor']:5.1f}x  "
                f"peak RSS {got['rss']:4.0f} MiB ({got['base']:.0f} before the list)"
            )
            if previous is not None:
                grown = got["first"] / previous[1]
                line += f"  cost x{grown:.1f} for x{rows / previous[0]:g} rows"
            print(line, flush=True)
            previous = (rows, got["first"])


if __name__ == "__main__":
    main()
