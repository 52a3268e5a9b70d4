"""Inbound webhooks: what `arrears-bot serve` takes per second, next to a bare aiohttp handler.

    python -m bench.inbound [--rate 200] [--seconds 15] [--tenants 5000]
                            [--clients 32] [--closed-seconds 5]

Needs PostgreSQL (ARREARS_BENCH_POSTGRES_URL or 127.0.0.1:5432); exits 1 without it. Seeds a
scratch database with TENANTS tenants, then measures two targets in turn, each a process of
its own on 127.0.0.1:

- the anchor: a bare aiohttp handler that reads the form and answers empty TwiML, the most
  any Python webhook can do on this machine, measured in the same run;
- the service: `arrears-bot serve` with Twilio settings, answering through a fake Twilio REST
  API (a third process around ``tests.fakes.twilio.FakeTwilio``).

Every request is a signed Twilio SMS webhook from a tenant's number with a new MessageSid.
Open loop: request i leaves at t0 + i/RATE whether or not earlier ones were answered, and its
latency counts from that moment, so a server that stalls shows it (latencies are those of the
answered requests, whatever their status). Closed loop: CLIENTS clients send back to back for
CLOSED_SECONDS. After the service's open loop the benchmark waits up to 120 s for the inbox
workers to handle every stored message, then up to 60 s for the answers to reach the fake
Twilio. The load generator shares the machine's cores with the servers and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from bench.common import arrears_file, postgres_url, scratch_database
from bot.runtime import Runtime
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PATH = "/webhooks/twilio/sms"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
SMS_FROM = "+3197010000000"
BODIES = ("hulp", "ik kan 50 euro per maand", "1")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SERVE = ["-c", "from bot.cli import main; main()", "serve"]


def helper(role: str, port: int) -> None:
    """The anchor (``--anchor PORT``) or the fake Twilio (``--fake-twilio PORT``)."""
    from tests.fakes.twilio import FakeTwilio

    fake = FakeTwilio()

    async def anchor(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def count(_: web.Request) -> web.Response:
        return web.json_response(len(fake.requests))  # the fake's requests so far

    app = web.Application()
    app.router.add_get("/healthz", count)
    if role == "--anchor":
        app.router.add_post(PATH, anchor)
    else:
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", fake.messages)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def helper_args(role: str, port: int) -> list[str]:
    return ["-m", "bench.inbound", role, str(port)]


class Webhooks:
    """Signed SMS webhooks from the tenants' numbers in turn, each with a new MessageSid."""

    def __init__(self, url: str, senders: list[str]) -> None:
        self.url = url
        self._validator = RequestValidator(AUTH_TOKEN)
        self._senders = itertools.cycle(senders)
        self._bodies = itertools.cycle(BODIES)

    def next(self) -> tuple[str, bytes, dict[str, str]]:
        sid = f"SM{secrets.token_hex(16)}"
        form = {
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": next(self._senders),
            "To": SMS_FROM,
            "Body": next(self._bodies),
            "NumMedia": "0",
        }
        signature = str(self._validator.compute_signature(self.url, form))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        return sid, urlencode(form).encode(), headers


@dataclass
class Result:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0  # no HTTP answer: refused, reset, timed out
    latencies: list[float] = field(default_factory=list)
    elapsed: float = math.nan
    sids: list[str] = field(default_factory=list)

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        at = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
        return 1000 * ordered[at] if ordered else math.nan

    @property
    def per_second(self) -> float:
        return sum(self.statuses.values()) / self.elapsed

    def row(self, name: str) -> str:
        ok, busy = self.statuses[200], self.statuses[503]
        other = sum(self.statuses.values()) - ok - busy
        return (
            f"{name:<18}{self.sent:>7}{ok:>7}{busy:>6}{other:>7}{self.errors:>7}"
            f"{ok / self.elapsed:>8.0f}{self.ms(0.5):>8.1f}{self.ms(0.99):>8.1f}{self.ms(1):>9.1f}"
        )

    def brief(self, name: str) -> str:
        other = {status: n for status, n in sorted(self.statuses.items()) if status != 200}
        extra = (f", non-200 {other}" if other else "") + (
            f", {self.errors} errors" if self.errors else ""
        )
        return (
            f"{name} {self.per_second:.0f} req/s "
            f"(p50 {self.ms(0.5):.1f} ms, p99 {self.ms(0.99):.1f} ms{extra})"
        )


async def post(
    session: aiohttp.ClientSession,
    url: str,
    request: tuple[str, bytes, dict[str, str]],
    result: Result,
    start: float,
) -> None:
    try:
        async with session.post(url, data=request[1], headers=request[2]) as response:
            await response.read()
    except (aiohttp.ClientError, TimeoutError):
        result.errors += 1
        return
    result.statuses[response.status] += 1
    result.latencies.append(time.perf_counter() - start)


async def open_loop(
    session: aiohttp.ClientSession, hooks: Webhooks, rate: float, secs: float
) -> Result:
    requests = [hooks.next() for _ in range(round(rate * secs))]
    result = Result(sent=len(requests), sids=[sid for sid, _, _ in requests])
    tasks = []
    t0 = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        due = t0 + i / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(session, hooks.url, request, result, due)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - t0
    return result


async def closed_loop(
    session: aiohttp.ClientSession, hooks: Webhooks, clients: int, secs: float
) -> Result:
    result = Result()
    started = time.perf_counter()

    async def client() -> None:
        while time.perf_counter() < started + secs:
            result.sent += 1
            await post(session, hooks.url, hooks.next(), result, time.perf_counter())

    await asyncio.gather(*(client() for _ in range(clients)))
    result.elapsed = time.perf_counter() - started
    return result


async def poll(done: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    """Call ``done`` every 0.1 s until it says yes (True) or ``seconds`` are over (False)."""
    deadline = time.perf_counter() + seconds
    while not await done():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Server:
    """A subprocess on 127.0.0.1, its stderr kept in a file."""

    name: str
    base: str
    process: asyncio.subprocess.Process
    stderr: Path

    @classmethod
    async def start(
        cls, name: str, args: list[str], port: int, folder: Path, env: dict[str, str] | None = None
    ) -> Server:
        stderr = folder / f"{name.replace(' ', '-')}.stderr"
        with stderr.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable, *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
                stderr=sink,
            )  # fmt: skip
        server = cls(name, f"http://127.0.0.1:{port}", process, stderr)

        async def up() -> bool:
            if process.returncode is not None:
                sys.exit(f"{name} exited with {process.returncode}:\n{server.tail()}")
            try:
                async with session.get(f"{server.base}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        async with aiohttp.ClientSession() as session:
            if not await poll(up, 60):
                await server.stop()
                sys.exit(f"{name} did not come up in 60 s:\n{server.tail()}")
        return server

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def tail(self, lines: int = 20) -> str:
        text = self.stderr.read_text(errors="replace").splitlines()
        return f"--- {self.name} stderr, {len(text)} lines:\n" + "\n".join(text[-lines:])


async def seed(url: str, tenants: int) -> list[str]:
    """Import the tenants; their SMS addresses as stored."""
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    runtime = await Runtime.start(settings, channels={}, migrate=False)
    try:
        await runtime.import_data(arrears_file(tenants), "bench.csv")
    finally:
        await runtime.close()
    conn = await asyncpg.connect(dsn(url))
    try:
        sql = "SELECT address FROM contact_points WHERE channel = 'sms' ORDER BY id"
        return [row["address"] for row in await conn.fetch(sql)]
    finally:
        await conn.close()


def service_env(url: str, port: int, twilio: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARREARS_")}
    settings = {
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SANDBOX": "false",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SECRET_KEY": secrets.token_hex(32),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_SMS_FROM": SMS_FROM,
        "TWILIO_API_BASE_URL": twilio,
        "TWILIO_SMS_PER_SECOND": "2000",
        "LOG_LEVEL": "WARNING",
        "TICK_SECONDS": "3600",
    }
    return env | {f"ARREARS_{key}": value for key, value in settings.items()}


async def aftermath(url: str, twilio: str, sids: list[str], ended: float) -> str:
    """Wait for the inbox to drain and the answers to go out; say what happened."""
    conn = await asyncpg.connect(dsn(url))
    pending = out = -1
    async with aiohttp.ClientSession() as session:

        async def inbox_empty() -> bool:
            nonlocal pending
            pending = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE direction = 'in' AND status = 'pending'"
            )
            return pending == 0

        async def all_sent() -> bool:
            nonlocal out
            out = await conn.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'")
            async with session.get(f"{twilio}/healthz") as response:
                return int(await response.json()) >= out

        try:
            drained = await poll(inbox_empty, 120)
            drained_after = time.perf_counter() - ended
            await poll(all_sent, 60)
            sql = "SELECT status, count(*) FROM messages WHERE direction = $1 {} GROUP BY status"
            stored = dict(
                list(await conn.fetch(sql.format("AND provider_id = ANY($2)"), "in", sids))
            )
            answers = dict(list(await conn.fetch(sql.format(""), "out")))
            async with session.get(f"{twilio}/healthz") as response:
                at_twilio = int(await response.json())
        finally:
            await conn.close()
    inbox = (
        f"inbox drained {drained_after:.1f} s after the load"
        if drained
        else f"inbox NOT drained {drained_after:.0f} s after the load: {pending} pending"
    )
    return (
        f"stored {sum(stored.values())}/{len(sids)}, handled {stored.get('received', 0)}, "
        f"failed {stored.get('failed', 0)}, {inbox}; answers queued {out} {answers}, "
        f"at the fake Twilio {at_twilio} ({time.perf_counter() - ended:.1f} s after the load)"
    )


async def run(args: argparse.Namespace) -> None:
    timeout = aiohttp.ClientTimeout(total=60)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with (
            scratch_database("postgresql") as url,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000), timeout=timeout) as s,
        ):
            note(f"seeding {args.tenants} tenants …")
            senders = await seed(url, args.tenants)
            port = free_port()
            anchor_args = helper_args("--anchor", port)
            anchor = await Server.start("bare aiohttp", anchor_args, port, folder)
            try:
                hooks = Webhooks(f"{anchor.base}{PATH}", senders)
                note("bare aiohttp: open loop, closed loop …")
                anchor_open = await open_loop(s, hooks, args.rate, args.seconds)
                anchor_closed = await closed_loop(s, hooks, args.clients, args.closed_seconds)
            finally:
                await anchor.stop()
            port, twilio_port = free_port(), free_port()
            fake_args = helper_args("--fake-twilio", twilio_port)
            fake = await Server.start("fake twilio", fake_args, twilio_port, folder)
            env = service_env(url, port, fake.base)
            service = await Server.start("arrears-bot serve", SERVE, port, folder, env)
            try:
                hooks = Webhooks(f"{service.base}{PATH}", senders)
                note("arrears-bot serve: open loop, then waiting for the inbox …")
                service_open = await open_loop(s, hooks, args.rate, args.seconds)
                after = await aftermath(url, fake.base, service_open.sids, time.perf_counter())
                note("arrears-bot serve: closed loop …")
                service_closed = await closed_loop(s, hooks, args.clients, args.closed_seconds)
            finally:
                await service.stop()
                await fake.stop()
        print(
            f"inbound webhooks, PostgreSQL, {args.tenants} tenants, "
            f"open loop {args.rate:g} req/s for {args.seconds:g} s"
        )
        print(
            f"{'':<18}{'sent':>7}{'200':>7}{'503':>6}{'other':>7}{'errors':>7}"
            f"{'200/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>9}"
        )
        print(anchor_open.row("bare aiohttp"))
        print(service_open.row("arrears-bot serve"))
        ratio = 100 * service_closed.per_second / anchor_closed.per_second
        print(
            f"closed loop, {args.clients} clients, {args.closed_seconds:g} s: "
            f"{anchor_closed.brief('bare aiohttp')}; {service_closed.brief('arrears-bot')}; "
            f"ratio {ratio:.0f} %"
        )
        print(after)
        for server in (anchor, fake, service):
            if server.stderr.stat().st_size:
                print(server.tail())


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inbound",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rate", type=float, default=200.0, help="open loop, requests/s")
    parser.add_argument("--seconds", type=float, default=15.0, help="open loop, duration")
    parser.add_argument("--tenants", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=32, help="closed loop, clients")
    parser.add_argument("--closed-seconds", type=float, default=5.0, help="closed loop, duration")
    parser.add_argument("--anchor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--fake-twilio", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.anchor is not None:
        return helper("--anchor", args.anchor)
    if args.fake_twilio is not None:
        return helper("--fake-twilio", args.fake_twilio)
    admin = postgres_url()
    if admin is None:
        sys.exit("PostgreSQL is not reachable on 127.0.0.1:5432; set ARREARS_BENCH_POSTGRES_URL")

    async def check() -> None:
        await (await asyncpg.connect(dsn(admin), timeout=5)).close()

    try:
        asyncio.run(check())
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        sys.exit(f"PostgreSQL at {admin} does not answer: {error}")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
