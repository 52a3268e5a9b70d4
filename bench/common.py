"""Databases and data for the benchmarks."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage.scratch import create_database, drop_database, local_postgres, migrated

HEADER = "tenant_ref;name;phone;email;language;monthly_rent;balance;as_of;postcode;house_number"


def postgres_url() -> str | None:
    """ARREARS_BENCH_POSTGRES_URL, or the local server when it answers."""
    return local_postgres(os.environ.get("ARREARS_BENCH_POSTGRES_URL"))


def _lines(rows: int, as_of: str, shift: int) -> Iterator[str]:
    yield HEADER
    for i in range(rows):
        phone = f"06-{20000000 + i:08d}" if i % 10 else ""
        email = f"t{i}@example.nl" if i % 3 == 0 else ""
        balance = f"{(i % 900) + 100 + shift},{i % 100:02d}"
        yield f"B{i:07d};Huurder {i};{phone};{email};nl;650,00;{balance};{as_of};7941AB;{i % 200}"


def arrears_file(rows: int, as_of: str = "01-12-2026", shift: int = 0) -> bytes:
    return "".join(line + "\r\n" for line in _lines(rows, as_of, shift)).encode()


def write_arrears_file(path: Path, rows: int, as_of: str = "01-12-2026", shift: int = 0) -> None:
    """The same list written to disk line by line: a benchmark of memory must not hold it."""
    with path.open("w", encoding="utf-8", newline="") as out:
        for line in _lines(rows, as_of, shift):
            out.write(line + "\r\n")


@asynccontextmanager
async def scratch_database(backend: str) -> AsyncIterator[str]:
    """A migrated, empty database that is gone afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await migrated(url)
            yield url
        return
    admin = postgres_url()
    assert admin is not None
    url = await create_database(admin, "arrears_bench")
    try:
        await migrated(url)
        yield url
    finally:
        await drop_database(url, admin)


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if postgres_url() else ["sqlite"]


def sync_url(url: str) -> str:
    """The same database for a synchronous driver (APScheduler's SQLAlchemyJobStore)."""
    driver = {"sqlite+aiosqlite": "sqlite", "postgresql+asyncpg": "postgresql+psycopg"}
    scheme, _, rest = url.partition("://")
    return f"{driver.get(scheme, scheme)}://{rest}"
