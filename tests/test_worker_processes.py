"""Real `arrears-bot worker` processes on PostgreSQL, sending to a fake Twilio on 127.0.0.1
while we stop and kill them: every due message arrives; none twice after SIGTERM; after
kill -9 at most the sends that were in flight at the kill go twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import SystemClock
from bot.runtime import Runtime
from bot.settings import Settings
from storage.models import Message
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, fake_twilio
from tests.outbox_helpers import due_sms
from tests.waiting import until

pytestmark = pytest.mark.postgresql_only

MESSAGES = 300
CONCURRENCY = 8
LEASE = 3
GRACE = 10
ALWAYS_OPEN = """
timezone = "Europe/Amsterdam"
[sending]
window_start = "00:00"
window_end = "23:59:59"
skip_sundays = false
skip_public_holidays = false
"""


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with fake_twilio() as fake:
        fake.delay = 0.1  # a provider that takes its time: sends are in flight when we kill
        yield fake


def _policy(tmp_path: Path) -> Path:
    default = (Path(__file__).parent.parent / "bot" / "default_policy.toml").read_text()
    stages = default[default.index("[[stages]]") :]
    path = tmp_path / "always-open.toml"
    path.write_text(ALWAYS_OPEN + "\n" + stages)
    return path


class Workers:
    """`arrears-bot worker` processes, each logging to its own file."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = 0

    def start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.folder / f"worker-{self.started}.log").open("wb")
        command = [str(Path(sys.executable).parent / "arrears-bot"), "worker"]
        proc = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    async def ready(self, proc: subprocess.Popen[bytes]) -> None:
        """Wait until the worker runs (before that a signal finds nothing to stop)."""
        path = self.folder / f"worker-{self.procs.index(proc) + 1}.log"
        await until(lambda: "workers started" in path.read_text(errors="replace"))

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.folder.glob("worker-*.log"))
        )


@contextmanager
def workers(env: dict[str, str], folder: Path) -> Iterator[Workers]:
    pool = Workers(env, folder)
    try:
        yield pool
    finally:
        for proc in pool.live():
            proc.kill()
        for proc in pool.procs:
            proc.wait()


async def _wait_exit(proc: subprocess.Popen[bytes], seconds: float) -> int | None:
    with contextlib.suppress(TimeoutError):
        await until(lambda: proc.poll() is not None, seconds)
    return proc.poll()


async def _sent(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return (
            await session.scalar(
                select(func.count()).where(Message.direction == "out", Message.status == "sent")
            )
            or 0
        )


async def _soak(
    database_url: str, twilio: FakeTwilio, tmp_path: Path, stop: signal.Signals
) -> tuple[Counter[str], list[str], int, Workers]:
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    runtime = await Runtime.start(settings, clock=SystemClock(), channels={}, migrate=False)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")},
        "ARREARS_DATABASE_URL": database_url,
        "ARREARS_SANDBOX": "false",
        "ARREARS_POLICY_FILE": str(_policy(tmp_path)),
        "ARREARS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "ARREARS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "ARREARS_TWILIO_SMS_FROM": "+3197010000001",
        "ARREARS_TWILIO_API_BASE_URL": twilio.url,
        "ARREARS_TWILIO_SMS_PER_SECOND": "60",
        "ARREARS_SEND_LEASE_SECONDS": str(LEASE),
        "ARREARS_SEND_CONCURRENCY": str(CONCURRENCY),
        "ARREARS_SHUTDOWN_GRACE_SECONDS": str(GRACE),
        "ARREARS_DISPATCH_SECONDS": "0.5",
        "ARREARS_TICK_SECONDS": "3600",
        "ARREARS_LOG_LEVEL": "INFO",
    }
    stops = 0
    try:
        addresses = await due_sms(runtime, MESSAGES, SystemClock().now())
        with workers(env, tmp_path) as pool:
            for _ in range(3):
                pool.start()
            deadline = time.monotonic() + 120
            turn = 0
            while await _sent(runtime) < MESSAGES and time.monotonic() < deadline:
                await asyncio.sleep(1.0 + 0.25 * (turn % 3))
                if not twilio.requests or await _sent(runtime) >= MESSAGES:
                    continue
                victim = pool.live()[turn % 3]
                turn += 1
                await pool.ready(victim)
                victim.send_signal(stop)
                stops += 1
                code = await _wait_exit(victim, GRACE + 10)
                if stop is signal.SIGTERM:
                    assert code == 0, f"a worker did not stop cleanly on SIGTERM\n{pool.logs()}"
                pool.start()
            assert await _sent(runtime) == MESSAGES, f"not everything was sent\n{pool.logs()}"
            for proc in pool.live():
                await pool.ready(proc)
                proc.send_signal(signal.SIGTERM)
            for proc in pool.live():
                assert await _wait_exit(proc, GRACE + 10) == 0, pool.logs()
        async with runtime.sessions() as session:
            statuses = Counter(
                await session.scalars(select(Message.status).where(Message.direction == "out"))
            )
        assert statuses == {"sent": MESSAGES}
        return Counter(r.form["To"] for r in twilio.requests), addresses, stops, pool
    finally:
        await runtime.close()


async def test_sigterm_every_second_or_so_sends_everything_once(
    backend: str, database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    received, addresses, stops, pool = await _soak(database_url, twilio, tmp_path, signal.SIGTERM)
    assert stops >= 2, "the workers must have been stopped while sending"
    assert set(received) == set(addresses), "a message never reached the provider"
    twice = {address: n for address, n in received.items() if n > 1}
    assert twice == {}, f"sent more than once after SIGTERM: {twice}\n{pool.logs()}"


async def test_kill_9_loses_nothing_and_resends_at_most_what_was_in_flight(
    backend: str, database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    received, addresses, kills, _ = await _soak(database_url, twilio, tmp_path, signal.SIGKILL)
    assert kills >= 2, "the workers must have been killed while sending"
    assert set(received) == set(addresses), "a message never reached the provider"
    again = sum(n - 1 for n in received.values())
    # Each killed worker had at most CONCURRENCY provider calls in flight.
    assert again <= kills * CONCURRENCY, f"{again} sent again after {kills} kills"
