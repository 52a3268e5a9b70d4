"""Inbound webhooks: what `arrears-bot serve` takes per second, next to a bare aiohttp handler.

    python -m bench.inbound [--rate 200] [--seconds 15] [--tenants 5000]
                            [--clients 32] [--closed-seconds 5]

Needs PostgreSQL (ARREARS_BENCH_POSTGRES_URL or 127.0.0.1:5432). Seeds a scratch database
with TENANTS tenants, then measures, each a process of its own on 127.0.0.1, the anchor (a
bare aiohttp handler that reads the form and answers empty TwiML) and `arrears-bot serve`
with Twilio settings, whose answers go to a fake Twilio (``tests.fakes.twilio.FakeTwilio``).

Every request is a signed SMS webhook from a tenant's number with a new MessageSid. Open
loop: request i leaves at t0 + i/RATE, answered or not, and its latency counts from then, so
a stalling server shows. Closed loop: CLIENTS clients send back to back for CLOSED_SECONDS.
Latencies are those of all answered requests, whatever their status. After the service's
open loop it waits up to 120 s for the inbox workers to handle what was stored, then up to
60 s for the answers to reach the fake Twilio. The load generator shares the machine's cores
with the servers and PostgreSQL.
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
from collections.abc import Awaitable, Callable, Iterator
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
SERVICE_ENV = "SANDBOX=false TWILIO_SMS_PER_SECOND=2000 LOG_LEVEL=WARNING TICK_SECONDS=3600"
HELPERS = ("--anchor", "--fake-twilio")
Request = tuple[str, bytes, dict[str, str]]  # MessageSid, form body, headers


def helper(role: str, port: int) -> None:
    """``--anchor PORT``: the bare handler; ``--fake-twilio PORT``: Twilio's Messages API."""
    from tests.fakes.twilio import FakeTwilio

    fake = FakeTwilio()

    async def anchor(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def count(_: web.Request) -> web.Response:  # also the health check
        return web.json_response(len(fake.requests))

    app = web.Application()
    app.router.add_get("/healthz", count)
    if role == "--anchor":
        app.router.add_post(PATH, anchor)
    else:
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", fake.messages)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def webhooks(url: str, senders: list[str]) -> Iterator[Request]:
    """Signed SMS webhooks to ``url`` from the tenants' numbers in turn, each a new sid."""
    validator = RequestValidator(AUTH_TOKEN)
    fixed = {"AccountSid": ACCOUNT_SID, "To": SMS_FROM, "NumMedia": "0"}
    for sender, body in zip(itertools.cycle(senders), itertools.cycle(BODIES), strict=False):
        sid = f"SM{secrets.token_hex(16)}"
        form = {**fixed, "MessageSid": sid, "From": sender, "Body": body}
        signature = str(validator.compute_signature(url, form))
        kind = "application/x-www-form-urlencoded"
        yield sid, urlencode(form).encode(), {"Content-Type": kind, "X-Twilio-Signature": signature}


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

    def row(self, name: str) -> str:
        ok, busy = self.statuses[200], self.statuses[503]
        other = sum(self.statuses.values()) - ok - busy
        return (
            f"{name:<18}{self.sent:>7}{ok:>7}{busy:>6}{other:>7}{self.errors:>7}"
            f"{ok / self.elapsed:>8.0f}{self.ms(0.5):>8.1f}{self.ms(0.99):>8.1f}{self.ms(1):>9.1f}"
        )


async def post(http: aiohttp.ClientSession, url: str, req: Request, into: Result, t: float) -> None:
    try:
        async with http.post(url, data=req[1], headers=req[2]) as response:
            await response.read()
    except (aiohttp.ClientError, TimeoutError):
        into.errors += 1
        return
    into.statuses[response.status] += 1
    into.latencies.append(time.perf_counter() - t)


async def open_loop(
    http: aiohttp.ClientSession, url: str, hooks: Iterator[Request], rate: float, secs: float
) -> Result:
    requests = list(itertools.islice(hooks, round(rate * secs)))
    result = Result(sent=len(requests), sids=[sid for sid, _, _ in requests])
    tasks = []
    t0 = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        due = t0 + i / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(http, url, request, result, due)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - t0
    return result


async def closed_loop(
    http: aiohttp.ClientSession, url: str, hooks: Iterator[Request], clients: int, secs: float
) -> Result:
    result = Result()
    started = time.perf_counter()

    async def client() -> None:
        while time.perf_counter() < started + secs:
            result.sent += 1
            await post(http, url, next(hooks), result, time.perf_counter())

    await asyncio.gather(*(client() for _ in range(clients)))
    result.elapsed = time.perf_counter() - started
    return result


async def poll(done: Callable[[], Awaitable[bool]], seconds: float) -> bool:
    """Ask ``done`` every 0.1 s until it says yes (True) or ``seconds`` are over (False)."""
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


def tail(log: Path, lines: int = 20) -> str:
    text = log.read_text(errors="replace").splitlines()
    return f"--- {log.stem} stderr, {len(text)} lines:\n" + "\n".join(text[-lines:])


async def start(
    args: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """Start a server process (stderr to ``log``); return it once GET /healthz answers 200."""
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=sink
        )

    async def up() -> bool:
        if process.returncode is not None:
            sys.exit(f"{log.stem} exited with {process.returncode}\n{tail(log)}")
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async with aiohttp.ClientSession() as http:
        if not await poll(up, 60):
            await stop(process)
            sys.exit(f"{log.stem} did not come up in 60 s\n{tail(log)}")
    return process


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


async def seed(url: str, tenants: int) -> list[str]:
    """Import the tenants; their SMS addresses as stored."""
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    runtime = await Runtime.start(settings, channels={}, migrate=False)
    try:
        # Today's list: the runtime reads the real clock, and a list dated later is refused.
        today = runtime.clock.now().astimezone(runtime.policy.tz).strftime("%d-%m-%Y")
        await runtime.import_data(arrears_file(tenants, as_of=today), "bench.csv")
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
    settings = dict(item.split("=") for item in SERVICE_ENV.split())
    settings |= dict(
        DATABASE_URL=url,
        HOST="127.0.0.1",
        PORT=str(port),
        SECRET_KEY=secrets.token_hex(32),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_SMS_FROM=SMS_FROM,
        TWILIO_API_BASE_URL=twilio,
    )
    return env | {f"ARREARS_{key}": value for key, value in settings.items()}


async def aftermath(url: str, twilio: str, sids: list[str], ended: float) -> str:
    """Wait for the inbox to drain and the answers to go out; say what happened."""
    conn = await asyncpg.connect(dsn(url))
    count = "SELECT count(*) FROM messages WHERE direction = $1 AND status LIKE $2"
    seen = {"pending": 0, "queued": 0, "twilio": 0}

    async def drained() -> bool:
        seen["pending"] = await conn.fetchval(count, "in", "pending")
        return seen["pending"] == 0

    async def sent() -> bool:
        seen["queued"] = await conn.fetchval(count, "out", "%")
        async with http.get(f"{twilio}/healthz") as response:
            seen["twilio"] = int(await response.json())
        return seen["twilio"] >= seen["queued"]

    try:
        async with aiohttp.ClientSession() as http:
            empty = await poll(drained, 120)
            drain_time = time.perf_counter() - ended
            await poll(sent, 60)
        sql = "SELECT status, count(*) FROM messages WHERE direction = $1 {} GROUP BY status"
        stored = dict(list(await conn.fetch(sql.format("AND provider_id = ANY($2)"), "in", sids)))
        answers = dict(list(await conn.fetch(sql.format(""), "out")))
    finally:
        await conn.close()
    inbox = f"inbox drained {drain_time:.1f} s after the load"
    if not empty:
        inbox = f"inbox NOT drained {drain_time:.0f} s after the load: {seen['pending']} pending"
    return (
        f"stored {sum(stored.values())}/{len(sids)}, handled {stored.get('received', 0)}, "
        f"failed {stored.get('failed', 0)}, {inbox}; answers queued {seen['queued']} {answers}, "
        f"at the fake Twilio {seen['twilio']} ({time.perf_counter() - ended:.1f} s after the load)"
    )


async def run(args: argparse.Namespace) -> None:
    connector, timeout = aiohttp.TCPConnector(limit=1000), aiohttp.ClientTimeout(total=60)
    rate, secs, clients, closed = args.rate, args.seconds, args.clients, args.closed_seconds
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory() as tmp:
        logs = [Path(tmp) / f"{name}.log" for name in ("bare-aiohttp", "fake-twilio", "serve")]
        async with (
            scratch_database("postgresql") as url,
            aiohttp.ClientSession(connector=connector, timeout=timeout) as http,
        ):
            print(f"seeding {args.tenants} tenants …", file=sys.stderr)
            senders = await seed(url, args.tenants)
            port = free_port()
            process = await start(["-m", "bench.inbound", HELPERS[0], str(port)], port, logs[0])
            try:
                print("bare aiohttp: open loop, closed loop …", file=sys.stderr)
                hooks = webhooks(target := f"http://127.0.0.1:{port}{PATH}", senders)
                results["anchor"] = await open_loop(http, target, hooks, rate, secs)
                results["anchor closed"] = await closed_loop(http, target, hooks, clients, closed)
            finally:
                await stop(process)
            port, twilio_port = free_port(), free_port()
            twilio = f"http://127.0.0.1:{twilio_port}"
            fake = await start(
                ["-m", "bench.inbound", HELPERS[1], str(twilio_port)], twilio_port, logs[1]
            )
            try:
                service = await start(SERVE, port, logs[2], service_env(url, port, twilio))
                try:
                    print("arrears-bot serve: open loop, inbox, closed loop …", file=sys.stderr)
                    hooks = webhooks(target := f"http://127.0.0.1:{port}{PATH}", senders)
                    results["serve"] = await open_loop(http, target, hooks, rate, secs)
                    sids, ended = results["serve"].sids, time.perf_counter()
                    after = await aftermath(url, twilio, sids, ended)
                    results["serve closed"] = await closed_loop(
                        http, target, hooks, clients, closed
                    )
                finally:
                    await stop(service)
            finally:
                await stop(fake)
        header = (
            f"{'':<18}{'sent':>7}{'200':>7}{'503':>6}{'other':>7}{'errors':>7}"
            f"{'200/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>9}"
        )
        bare, ours = results["anchor closed"], results["serve closed"]
        ratio = 100 * (ours.statuses[200] / ours.elapsed) / (bare.statuses[200] / bare.elapsed)
        print(
            f"inbound webhooks, PostgreSQL, {args.tenants} tenants, open loop {rate:g} req/s "
            f"for {secs:g} s\n{header}\n{results['anchor'].row('bare aiohttp')}\n"
            f"{results['serve'].row('arrears-bot serve')}\nclosed loop, {clients} clients, "
            f"{closed:g} s\n{header}\n{bare.row('bare aiohttp')}\n{ours.row('arrears-bot serve')}"
            f"\nclosed loop 200/s, arrears-bot serve / bare aiohttp: {ratio:.1f} %\n{after}"
        )
        for log in logs:
            if log.stat().st_size:
                print(tail(log))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] in HELPERS:
        return helper(sys.argv[1], int(sys.argv[2]))
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
    args = parser.parse_args()
    if (admin := postgres_url()) is None:
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
