"""The tick beside its anchor, in the same run: N due cases claimed, decided and queued into
the outbox, against APScheduler 3 running one SQLAlchemyJobStore job per reminder.

    python -m bench.tick [SIZES...]          (default: 10000 100000)

For each backend (SQLite, and PostgreSQL when reachable: ARREARS_BENCH_POSTGRES_URL or
127.0.0.1) and size: import SIZE cases, move the clock to when their first reminder is due,
and time ``runtime.tick()`` alone (dispatch is bench/delivery.py's). Then the anchor: the
same number of date-trigger jobs, all due now, in a SQLAlchemyJobStore on the same backend
(its own scratch database), run by a started BackgroundScheduler until the last one has
run; each job only counts. It is what "a job per reminder" costs: the scheduler loads every
due job, hands it to its thread pool and deletes it, one statement per job. Timed from the
scheduler's resume, the jobs already stored (as the cases are); SQLite on the tick's terms
(WAL, synchronous=NORMAL).

The anchor waits on a round trip per job, the tick on the processor: on a busy machine the
anchor slows far more than the tick, and the ratio rises. Compare runs on a quiet machine.

Prints cases/s beside jobs/s and their ratio (target: ≥ 10× on PostgreSQL), and the cost
from the smallest size to the largest (target: linear, ≤ 11× for 10k → 100k). Every due case
is accounted for: its reminder in the outbox, or escalated as unreachable (no contact
point); a shortfall is printed, not hidden.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import create_engine, event, func, select

from bench.common import arrears_file, backends, scratch_database, sync_url
from bot.runtime import Runtime
from bot.settings import Settings
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import CHANNELS
from storage.models import Case, Message

TARGET_RATIO = 10.0  # on PostgreSQL
TARGET_CURVE = 11.0  # 10k → 100k
ANCHOR_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Figure:
    backend: str
    size: int
    seconds: float
    queued: int
    escalated: int
    outbox: int  # reminders in the outbox afterwards
    anchor_jobs: int
    anchor_seconds: float

    @property
    def rate(self) -> float:
        return self.size / self.seconds

    @property
    def anchor_rate(self) -> float:
        return self.anchor_jobs / self.anchor_seconds


async def tick_once(backend: str, size: int) -> tuple[float, int, int, int]:
    """Seconds for one tick over ``size`` due cases; queued, escalated, outbox rows."""
    async with scratch_database(backend) as url:
        clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        channels = dict.fromkeys(CHANNELS, SandboxChannel())
        runtime = await Runtime.start(settings, clock=clock, channels=channels, migrate=False)
        try:
            await runtime.import_data(arrears_file(size), "bench.csv")
            async with runtime.sessions() as session:
                due = await session.scalar(select(func.max(Case.next_action_at)))
            assert due is not None
            clock.current = due  # the moment the first reminder falls due, for every case
            started = time.perf_counter()
            result = await runtime.tick()
            seconds = time.perf_counter() - started
            async with runtime.sessions() as session:
                outbox = await session.scalar(
                    select(func.count()).select_from(Message).where(Message.kind == "reminder")
                )
        finally:
            await runtime.close()
    return seconds, result.queued, result.escalated, outbox or 0


# ---- the anchor: APScheduler 3, one persistent job per reminder ---------------------------

_ran = 0
_ran_lock = threading.Lock()
_all_ran = threading.Event()
_expected = 0


def reminder_job() -> None:
    """The anchor's job: nothing but counting, so the figure is the scheduler's own cost."""
    global _ran
    with _ran_lock:
        _ran += 1
        if _ran == _expected:
            _all_ran.set()


def _wal(engine: Any) -> None:
    """The tick's SQLite settings (storage.db): the anchor commits on equal terms."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def anchor(url: str, jobs: int) -> float:
    """Seconds from the scheduler's start until ``jobs`` due jobs have all run."""
    global _ran, _expected
    _ran, _expected = 0, jobs
    _all_ran.clear()
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _wal(engine)
    store = SQLAlchemyJobStore(engine=engine)
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(10)},
        # However late the scheduler gets to a job, it runs (the default skips a job more
        # than a second late: most of these would be dropped, not run).
        job_defaults={"misfire_grace_time": None, "coalesce": True},
        timezone=UTC,
    )
    scheduler.start(paused=True)  # creates the table; runs nothing yet
    now = datetime.now(UTC)
    # What add_job stores, one row per reminder, written in bulk: the setup is not timed.
    rows = []
    for number in range(jobs):
        job = Job(
            scheduler,
            id=f"reminder-{number}",
            func=reminder_job,
            args=(),
            kwargs={},
            name="reminder",
            trigger=DateTrigger(run_date=now),
            executor="default",
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
            next_run_time=now,
        )
        rows.append(
            {
                "id": job.id,
                "next_run_time": datetime_to_utc_timestamp(now),
                "job_state": pickle.dumps(job.__getstate__(), store.pickle_protocol),
            }
        )
    with engine.begin() as connection:
        connection.execute(store.jobs_t.insert(), rows)
    started = time.perf_counter()
    scheduler.resume()
    finished = _all_ran.wait(ANCHOR_TIMEOUT)
    seconds = time.perf_counter() - started
    scheduler.shutdown(wait=True)
    engine.dispose()
    if not finished:
        print(f"  anchor: only {_ran} of {jobs} jobs ran within {ANCHOR_TIMEOUT:.0f} s")
    return seconds


async def anchor_on(backend: str, jobs: int) -> float:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            return await asyncio.to_thread(anchor, f"sqlite:///{Path(folder) / 'jobs.db'}", jobs)
    async with scratch_database(backend) as url:
        return await asyncio.to_thread(anchor, sync_url(url), jobs)


# ---- the run -----------------------------------------------------------------------------


async def measure(backend: str, size: int) -> Figure:
    seconds, queued, escalated, outbox = await tick_once(backend, size)
    anchor_seconds = await anchor_on(backend, size)
    return Figure(backend, size, seconds, queued, escalated, outbox, size, anchor_seconds)


def report(figure: Figure) -> None:
    ratio = figure.rate / figure.anchor_rate
    target = f"target ≥ {TARGET_RATIO:.0f}×" if figure.backend == "postgresql" else "no target"
    accounted = figure.queued + figure.escalated
    check = (
        "every due case"
        if accounted == figure.size == figure.outbox + figure.escalated
        else (
            f"SHORT: {figure.size - accounted} due cases neither queued nor escalated, "
            f"{figure.outbox} reminders in the outbox"
        )
    )
    print(
        f"{figure.backend:<10} {figure.size:>8,} cases  "
        f"tick {figure.seconds:6.2f} s {figure.rate:8,.0f} cases/s  |  "
        f"APScheduler {figure.anchor_jobs:,} jobs {figure.anchor_seconds:6.2f} s "
        f"{figure.anchor_rate:6,.0f} jobs/s  |  {ratio:5.1f}× ({target})"
    )
    # Other work on the machine slows the anchor (a round trip per job) more than the tick:
    # a figure means little without the load it was measured under.
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"{'':<10} outbox {figure.outbox:,} reminders + {figure.escalated:,} unreachable "
        f"(escalated) = {check}; load average {load}"
    )


def curve(figures: list[Figure]) -> None:
    small, large = figures[0], figures[-1]
    if large.size == small.size:
        return
    scale = large.size / small.size
    tick = large.seconds / small.seconds
    jobs = large.anchor_seconds / small.anchor_seconds
    print(
        f"{small.backend:<10} cost {small.size:,} → {large.size:,} ({scale:.0f}× the cases): "
        f"tick {tick:.1f}× (target ≤ {TARGET_CURVE * scale / 10:.0f}×), APScheduler {jobs:.1f}×"
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 100_000]
    for backend in backends():
        figures = []
        for size in sizes:
            figures.append(asyncio.run(measure(backend, size)))
            report(figures[-1])
        curve(figures)


if __name__ == "__main__":
    main()
