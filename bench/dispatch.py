"""Dispatch throughput: N queued SMS sent by one worker's Dispatcher through the real
TwilioChannel (the `twilio` client library) to a fake Twilio on 127.0.0.1, beside the anchor
measured in the same run, just before and just after (their mean): a bare aiohttp loop (one
ClientSession, the same concurrency, the same form POST with basic auth) posting N requests
to the same fake.

    python -m bench.dispatch [SIZES...]        (default: 10000 100000)

On SQLite and, when reachable, PostgreSQL (ARREARS_BENCH_POSTGRES_URL or 127.0.0.1). The fake
runs in a process of its own, so it shares neither the event loop nor the core accounting of
what is measured. The concurrency is ARREARS_SEND_CONCURRENCY (the settings' default when
unset), for both. The shared send budget is in the path, as in production, at a rate far
above what is reached. Prints msg/s, the anchor's req/s and their ratio (target >= 50 %),
and what the largest size cost against the smallest, per message count (target <= 11x for
10x the messages). Each run checks that the fake received every message exactly once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
from pydantic import SecretStr
from sqlalchemy import insert

from bench.common import backends, scratch_database
from bot.runtime import Runtime, build_channels
from bot.settings import Settings
from messaging.outbox import outbound
from messaging.routing import Reachable
from rules.clock import ManualClock
from storage.db import create_engine, session_maker
from storage.models import Case, ContactPoint, Message, Tenant
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN

# Tuesday 1 December 2026, 10:00 in Amsterdam: inside the default sending window.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SMS_FROM = "+3197010000001"
TARGET_RATIO = 0.5
TARGET_GROWTH = 11.0
CHUNK = 5000


def concurrency() -> int:
    return Settings(_env_file=None).send_concurrency  # type: ignore[call-arg]


def phone(i: int) -> str:
    return f"+316{10000000 + i:08d}"


# -- the data -----------------------------------------------------------------------------


async def queue_sms(url: str, n: int) -> None:
    """``n`` tenants, each with a case, an SMS contact point and one reminder queued: what
    recording a send touches (the message, its contact point, its case, an event)."""
    engine = create_engine(url)
    template = outbound(
        route=Reachable(0, "sms", phone(0), True, False),
        template="reminder_friendly",
        language="nl",
        context={"name": "Huurder", "corporation": "Wonen", "phone": "088", "balance": "€ 1,00"},
        kind="reminder",
        now=NOW,
        stage=1,
    )
    try:
        async with session_maker(engine)() as session, session.begin():
            for start in range(1, n + 1, CHUNK):
                ids = range(start, min(n + 1, start + CHUNK))
                await session.execute(insert(Tenant), [_tenant(i) for i in ids])
                await session.execute(insert(ContactPoint), [_point(i) for i in ids])
                await session.execute(insert(Case), [_case(i) for i in ids])
                await session.execute(insert(Message), [_message(template, i) for i in ids])
    finally:
        await engine.dispose()


def _tenant(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "external_ref": f"B{i:07d}",
        "name": f"Huurder {i}",
        "language": "nl",
        "monthly_rent_cents": 65000,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _point(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "tenant_id": i,
        "channel": "sms",
        "address": phone(i),
        "source": "import",
        "verified": True,
        "failures": 0,
        "created_at": NOW,
    }


def _case(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "tenant_id": i,
        "status": "open",
        "stage": 1,
        "balance_cents": 100,
        "arrears_since": date(2026, 11, 1),
        "opened_at": NOW,
        "version": 1,
    }


def _message(template: dict[str, Any], i: int) -> dict[str, Any]:
    return {
        **template,
        "case_id": i,
        "tenant_id": i,
        "contact_point_id": i,
        "address": phone(i),
        "idempotency_key": f"case:{i}:stage:1:first",
    }


# -- the fake, in its own process -----------------------------------------------------------


@dataclass
class Fake:
    url: str
    http: aiohttp.ClientSession

    async def received(self) -> dict[str, int]:
        async with self.http.get(f"{self.url}/_fake/received") as response:
            return dict(await response.json())

    async def forget(self) -> None:
        async with self.http.delete(f"{self.url}/_fake/received"):
            pass


@contextlib.asynccontextmanager
async def fake_twilio_process() -> AsyncIterator[Fake]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.twilio",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        url = (await proc.stdout.readline()).decode().strip()
        async with aiohttp.ClientSession() as http:
            yield Fake(url, http)
    finally:
        proc.stdin.close()  # the fake serves until its stdin closes
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# -- the two measurements -----------------------------------------------------------------


async def anchor(url: str, n: int, width: int) -> float:
    """Seconds for N form POSTs with basic auth over one session, ``width`` at once."""
    endpoint = f"{url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}"}
    body = "Beste huurder, er staat nog een bedrag open. Neem contact op met Wonen via 088."
    numbers = iter(range(1, n + 1))
    connector = aiohttp.TCPConnector(limit=width)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post_all() -> None:
            for i in numbers:
                form = {"To": phone(i), "From": SMS_FROM, "Body": body}
                async with http.post(endpoint, data=form, headers=headers) as response:
                    await response.json()
                    assert response.status == 201

        started = time.perf_counter()
        await asyncio.gather(*(post_all() for _ in range(width)))
        return time.perf_counter() - started


async def dispatch(url: str, fake_url: str, n: int) -> tuple[float, int]:
    """Seconds for one Dispatcher to send everything due; how many it sent."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        sandbox=False,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        twilio_sms_from=SMS_FROM,
        twilio_api_base_url=fake_url,
        twilio_sms_per_second=1_000_000,
    )
    runtime = await Runtime.start(
        settings, clock=ManualClock(NOW), channels=build_channels(settings), migrate=False
    )
    try:
        started = time.perf_counter()
        result = await runtime.dispatch()
        return time.perf_counter() - started, result.sent
    finally:
        await runtime.close()


async def measure(backend: str, n: int, fake: Fake, width: int) -> float:
    async with scratch_database(backend) as url:
        await queue_sms(url, n)
        await fake.forget()
        before = await anchor(fake.url, n, width)
        await fake.forget()
        seconds, sent = await dispatch(url, fake.url, n)
        got = await fake.received()
        await fake.forget()
        # The anchor just before and just after: the machine's load is the same on average.
        bare = (before + await anchor(fake.url, n, width)) / 2
    once = got == {"requests": n, "addresses": n, "most": 1}
    ratio = bare / seconds
    verdict = "ok" if ratio >= TARGET_RATIO else "BELOW"
    print(
        f"{backend:<10} {n:>7} SMS  dispatch {n / seconds:7.0f} msg/s ({seconds:6.1f} s)  "
        f"anchor {n / bare:7.0f} req/s  ratio {ratio:4.0%} (target >= {TARGET_RATIO:.0%}, "
        f"{verdict})  sent {sent}  fake got {got['requests']}, "
        f"{'each once' if once else 'NOT each exactly once: ' + str(got)}",
        flush=True,
    )
    return seconds


async def main_async(sizes: list[int]) -> None:
    width = concurrency()
    print(f"concurrency {width} (ARREARS_SEND_CONCURRENCY); fake Twilio in its own process")
    async with fake_twilio_process() as fake:
        for backend in backends():
            costs = {n: await measure(backend, n, fake, width) for n in sizes}
            if len(sizes) > 1:
                small, large = min(sizes), max(sizes)
                growth = costs[large] / costs[small]
                bound = TARGET_GROWTH * large / small / 10
                print(
                    f"{backend:<10} {small}->{large}: {growth:.1f}x the time for "
                    f"{large / small:g}x the messages (target <= {bound:g}x)"
                )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 100_000]
    asyncio.run(main_async(sizes))


if __name__ == "__main__":
    main()
