"""`arrears-bot demo`, run: the synthetic tenants' month on the sandbox, either at once with
a summary (headless) or live, with the web pages, a simulated day every few seconds.

The tenants live on the demo's clock; people do not. The consultant's login, its expiry and
any hold after failed logins run on the wall clock, or a login would end within seconds.
Live, the tenants' clock stops when the month is over: waits and reports stop growing, while
the sandbox and the workplace stay open.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from aiohttp import web

from bot.demo import Simulation, demo_end, demo_rows, demo_start, not_on_whatsapp, summarise
from bot.runtime import Runtime
from bot.scheduler import build_scheduler
from bot.settings import Settings
from bot.web import build_app
from messaging.channels.sandbox import SandboxChannel
from rules.clock import Clock, FastClock, ManualClock, SystemClock
from rules.policy import CHANNELS, load_policy
from workplace.accounts import Role, add_user

DEMO_CONSULTANT = "consulent"
Serve = Callable[[web.Application, str, int], Awaitable[None]]


@dataclass(frozen=True)
class DemoRun:
    settings: Settings  # on the demo's own SQLite file, with the sandbox on
    first_day: date
    days: int
    seed: int
    database: Path
    echo: Callable[[str], None]
    wall: Clock = field(default_factory=SystemClock)  # people's time; the live month's pace

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    async def _prepare(self, clock: ManualClock) -> tuple[Runtime, Simulation, str]:
        """The runtime on the simulated clock, the tenants, and a coordinator's password."""
        sandbox = SandboxChannel()
        runtime = await Runtime.start(
            self.settings,
            clock=clock,
            wall_clock=self.wall,
            channels=dict.fromkeys(CHANNELS, sandbox),
        )
        simulation = Simulation(runtime, demo_rows(), self.seed)
        sandbox.failure_rules.append(not_on_whatsapp(simulation.no_whatsapp))
        password = secrets.token_urlsafe(12)
        async with runtime.sessions() as session, session.begin():
            await add_user(
                session,
                DEMO_CONSULTANT,
                password,
                role=Role.COORDINATOR,
                now=runtime.wall_clock.now(),
                display_name="Demo consulent",
            )
        return runtime, simulation, password

    def _print_login(self, password: str, how: str, last_day: date | None = None) -> None:
        self.echo(f"Consultant login: {DEMO_CONSULTANT} / {password}  ({how})")
        # The simulated month, whatever day it is on the wall (a later `serve` runs on it).
        last_day = last_day or self.first_day + timedelta(days=self.days - 1)
        month = f"from={self.first_day}&to={last_day}"
        self.echo(f"Reports of the simulated month: {self.base_url}/reports?{month}")

    async def headless(self) -> None:
        clock = ManualClock(demo_start(self.first_day, load_policy().tz))
        runtime, simulation, password = await self._prepare(clock)
        try:
            await simulation.run_until(clock, clock.now() + timedelta(days=self.days))
            summary = await summarise(runtime)
        finally:
            await runtime.close()
        self.echo(
            f"Demo: {_count(len(simulation.tenants), 'tenant')}, "
            f"{_count(self.days, 'day')} from {self.first_day}, "
            f"seed {self.seed}\n"
        )
        self.echo(summary.table())
        url = f"ARREARS_DATABASE_URL=sqlite+aiosqlite:///{self.database}"
        self.echo(f"\nDatabase kept in {self.database}: try {url} arrears-bot queue")
        self._print_login(
            password, f"to see the queue: {url} arrears-bot serve, then {self.base_url}/login"
        )

    async def live(self, day_seconds: float, serve: Serve) -> None:
        policy = load_policy()
        manual = ManualClock(demo_start(self.first_day, policy.tz))
        runtime, simulation, password = await self._prepare(manual)
        end = demo_end(self.first_day, self.days, policy)
        # Skip the quiet first days: start live just before the first reminders go out.
        quiet = timedelta(days=policy.stages[0].after_days, hours=2)
        await simulation.run_until(manual, min(manual.now() + quiet, end))
        clock = FastClock(manual.now(), speed=86400 / day_seconds, real=self.wall, until=end)
        runtime.clock = clock
        told = False

        async def tick() -> None:
            nonlocal told
            now = clock.now()
            # The tenants' step still runs once time stands: answers to the sandbox and a
            # consultant's replies go out at the month's last moment.
            await simulation.step(now)
            if now >= end and not told:
                told = True
                self.echo(
                    "The demo month is over; its clock stands still at "
                    f"{end.astimezone(policy.tz):%Y-%m-%d %H:%M}. "
                    "The sandbox and the workplace stay open (Ctrl+C to stop)."
                )

        scheduler = build_scheduler(runtime, tick=tick, dispatch=runtime.dispatch)
        step = max(0.5, min(1.0, day_seconds / 48))
        scheduler.reschedule_job("tick", trigger="interval", seconds=step)
        # One job at a time, each to its end: Ctrl+C waits for the one under way instead of
        # cancelling it inside a transaction (a traceback on the terminal, a connection left).
        busy = asyncio.Lock()
        for job in scheduler.get_jobs():
            scheduler.modify_job(job.id, func=_one_at_a_time(busy, job.func))
        application = build_app(runtime)

        async def started(_: web.Application) -> None:
            scheduler.start()

        async def stopped(_: web.Application) -> None:
            scheduler.pause()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.shutdown_grace_seconds):
                    await busy.acquire()
            scheduler.shutdown(wait=False)  # cancels only a job still waiting its turn
            await runtime.close()

        application.on_startup.append(started)
        application.on_cleanup.append(stopped)
        self.echo(
            f"Demo running: one simulated day every {day_seconds:g} s, "
            f"{_count(self.days, 'day')} in all."
        )
        self.echo(f"Open {self.base_url}/sandbox  (Ctrl+C to stop)")
        self._print_login(
            password,
            f"{self.base_url}/login; the queue fills as the month runs",
            last_day=end.astimezone(policy.tz).date(),  # the day its clock stops
        )
        await serve(application, self.settings.host, self.settings.port)


def _one_at_a_time(
    lock: asyncio.Lock, job: Callable[[], Awaitable[object]]
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        async with lock:
            await job()

    return run


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
