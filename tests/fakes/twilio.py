"""A fake Twilio REST API on 127.0.0.1: records each request as Twilio would receive it and
answers in Twilio's formats, including its error bodies."""

from __future__ import annotations

import asyncio
import base64
import itertools
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aiohttp import web
from twilio.request_validator import RequestValidator

from rules.clock import Clock, ManualClock
from tests.fakes import serve_on_loopback

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


@dataclass
class Recorded:
    path: str
    auth: tuple[str, str]
    form: dict[str, str]
    at: datetime | None = None  # the injected clock's time when the request arrived
    wall: float = 0.0  # time.monotonic() when it arrived


@dataclass
class FakeTwilio:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    # "to" address → (HTTP status, Twilio error code, message), answered instead of a message.
    failures: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    # A slow provider: each request takes this long to answer (real seconds) …
    delay: float = 0.0
    # … and moves this (manual) clock on by `step` when it arrives.
    clock: ManualClock | None = None
    step: timedelta = timedelta(0)
    # … or only reads this clock (one that runs by itself).
    clock_source: Clock | None = None
    in_progress: int = 0
    peak_in_progress: int = 0  # the most requests it was answering at once (with a delay)
    # The first request takes this long before it is recorded (real seconds): a later one
    # sent alongside it would be recorded first.
    slow_first: float = 0.0
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _firsts: itertools.count[int] = field(default_factory=itertools.count)

    async def messages(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        form = {key: str(value) for key, value in (await request.post()).items()}
        at = self.clock_source.now() if self.clock_source is not None else None
        if self.clock is not None:
            at = self.clock.now()
            self.clock.advance(self.step)
        if self.slow_first and next(self._firsts) == 0:
            await asyncio.sleep(self.slow_first)
        self.requests.append(Recorded(request.path, (user, password), form, at, time.monotonic()))
        if self.delay:
            self.in_progress += 1
            self.peak_in_progress = max(self.peak_in_progress, self.in_progress)
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.in_progress -= 1
        if form.get("To") in self.failures:
            status, code, message = self.failures[form["To"]]
            return web.json_response(
                {"code": code, "message": message, "more_info": "", "status": status},
                status=status,
            )
        sid = f"SM{next(self._ids):032x}"
        body: dict[str, Any] = {
            "sid": sid,
            "account_sid": request.match_info["account"],
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": "Tue, 01 Dec 2026 10:00:00 +0000",
            "price": None,
            "error_code": None,
            "error_message": None,
            "uri": f"{request.path}/{sid}.json",
        }
        return web.json_response(body, status=201)


@asynccontextmanager
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", fake.messages)
    async with serve_on_loopback(app) as url:
        fake.url = url
        yield fake


def signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it for a webhook to ``url``."""
    return str(RequestValidator(token).compute_signature(url, form))


# -- in a process of its own -------------------------------------------------------------
# A benchmark runs the fake in another process, so the fake's work does not share the event
# loop (or the core) of what is measured. `python -m tests.fakes.twilio` prints its URL and
# serves until its stdin closes; GET /_fake/received says what it got, DELETE forgets it.


async def _received(fake: FakeTwilio, request: web.Request) -> web.Response:
    if request.method == "DELETE":
        fake.requests.clear()
        return web.json_response({})
    counts: dict[str, int] = {}
    for recorded in fake.requests:
        to = recorded.form.get("To", "")
        counts[to] = counts.get(to, 0) + 1
    most = max(counts.values(), default=0)
    return web.json_response(
        {"requests": len(fake.requests), "addresses": len(counts), "most": most}
    )


async def _serve_until_stdin_closes() -> None:
    fake = FakeTwilio()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", fake.messages)
    app.router.add_route("*", "/_fake/received", partial(_received, fake))
    async with serve_on_loopback(app) as url:
        print(url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(_serve_until_stdin_closes())
