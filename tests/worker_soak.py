"""Real `arrears-bot worker` processes on one PostgreSQL database, sending to a fake Twilio
on 127.0.0.1 while one of them is stopped (SIGTERM) or killed (SIGKILL) every second or so.
Shared by tests/test_worker_processes.py and `python -m bench.delivery`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.settings import Settings
from rules.clock import SystemClock
from storage.models import Message
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.outbox_helpers import due_sms
from tests.waiting import until

ALWAYS_OPEN = """
timezone = "Europe/Amsterdam"
[sending]
window_start = "00:00"
window_end = "23:59:59"
skip_sundays = false
skip_public_holidays = false
"""


@dataclass(frozen=True)
class Soak:
    messages: int = 300
    workers: int = 3
    per_second: float = 60
    lease: int = 3
    concurrency: int = 8
    grace: float = 10
    every: float = 1.0  # seconds between stops (a little more each third time)
    deadline: float = 120


@dataclass(frozen=True)
class Outcome:
    addresses: list[str]
    received: Counter[str]
    stops: int
    exit_codes: list[int | None]
    seconds: float
    logs: str

    @property
    def lost(self) -> int:
        return len(set(self.addresses) - set(self.received))

    @property
    def again(self) -> int:
        return sum(n - 1 for n in self.received.values() if n > 1)


def _policy(folder: Path) -> Path:
    default = (Path(__file__).parent.parent / "rules" / "default_policy.toml").read_text()
    path = folder / "always-open.toml"
    path.write_text(ALWAYS_OPEN + "\n" + default[default.index("[[stages]]") :])
    return path


class Workers:
    """`arrears-bot worker` processes, each logging to its own file."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.folder / f"worker-{len(self.procs) + 1}.log").open("wb")
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
def _pool(env: dict[str, str], folder: Path) -> Iterator[Workers]:
    pool = Workers(env, folder)
    try:
        yield pool
    finally:
        for proc in pool.live():
            proc.kill()
        for proc in pool.procs:
            proc.wait()


async def _exit(proc: subprocess.Popen[bytes], seconds: float) -> int | None:
    with contextlib.suppress(TimeoutError):
        await until(lambda: proc.poll() is not None, seconds)
    return proc.poll()


async def _sent(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        statement = select(func.count()).where(Message.direction == "out", Message.status == "sent")
        return await session.scalar(statement) or 0


def worker_env(database_url: str, twilio: FakeTwilio, folder: Path, soak: Soak) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")},
        "ARREARS_DATABASE_URL": database_url,
        "ARREARS_SANDBOX": "false",
        "ARREARS_POLICY_FILE": str(_policy(folder)),
        "ARREARS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "ARREARS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "ARREARS_TWILIO_SMS_FROM": "+3197010000001",
        "ARREARS_TWILIO_API_BASE_URL": twilio.url,
        "ARREARS_TWILIO_SMS_PER_SECOND": str(soak.per_second),
        "ARREARS_SEND_LEASE_SECONDS": str(soak.lease),
        "ARREARS_SEND_CONCURRENCY": str(soak.concurrency),
        "ARREARS_SHUTDOWN_GRACE_SECONDS": str(soak.grace),
        "ARREARS_DISPATCH_SECONDS": "0.5",
        "ARREARS_TICK_SECONDS": "3600",
        "ARREARS_LOG_LEVEL": "INFO",
    }


async def soak(
    database_url: str,
    twilio: FakeTwilio,
    folder: Path,
    stop: signal.Signals | None,
    plan: Soak = Soak(),
) -> Outcome:
    """Queue ``plan.messages`` due SMS, run the workers until every one is sent, stopping
    one worker with ``stop`` every ``plan.every`` seconds or so (None: no stops), and
    report what the fake received."""
    settings = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    runtime = await Runtime.start(settings, clock=SystemClock(), channels={}, migrate=False)
    stops = 0
    codes: list[int | None] = []
    try:
        addresses = await due_sms(runtime, plan.messages, SystemClock().now())
        began = time.monotonic()
        with _pool(worker_env(database_url, twilio, folder, plan), folder) as pool:
            for _ in range(plan.workers):
                pool.start()
            deadline = began + plan.deadline
            turn = 0
            while await _sent(runtime) < plan.messages and time.monotonic() < deadline:
                await asyncio.sleep(plan.every * (1 + 0.25 * (turn % 3)))
                if stop is None or not twilio.requests:
                    continue
                if await _sent(runtime) >= plan.messages:
                    break
                victim = pool.live()[turn % plan.workers]
                turn += 1
                await pool.ready(victim)
                victim.send_signal(stop)
                stops += 1
                codes.append(await _exit(victim, plan.grace + 10))
                pool.start()
            seconds = time.monotonic() - began
            for proc in pool.live():
                await pool.ready(proc)
                proc.send_signal(signal.SIGTERM)
            for proc in pool.live():
                codes.append(await _exit(proc, plan.grace + 10))
            logs = pool.logs()
        return Outcome(
            addresses,
            Counter(r.form["To"] for r in twilio.requests),
            stops,
            codes,
            seconds,
            logs,
        )
    finally:
        await runtime.close()
