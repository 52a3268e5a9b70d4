"""Delivery under stops and kills: real `arrears-bot worker` processes on PostgreSQL send due
SMS to a slow fake Twilio on 127.0.0.1 while one worker is stopped every few seconds.

    python -m bench.delivery [MESSAGES] [PER_SECOND]

Three runs, each printed beside its target: no stops (0 twice, 0 lost), SIGTERM every few
seconds (0 twice, 0 lost), kill -9 every few seconds (0 lost; twice at most the calls in
flight at the kills: kills x ARREARS_SEND_CONCURRENCY). Defaults: 2,000 SMS at 20 a second
(the provider's limit, shared by the three workers), lease 5 s, a provider that takes
0.2 s a call.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path

from bench.common import postgres_url, scratch_database
from tests.fakes.twilio import fake_twilio
from tests.worker_soak import Soak, soak


async def run(stop: signal.Signals | None, plan: Soak) -> None:
    async with scratch_database("postgresql") as url, fake_twilio() as twilio:
        twilio.delay = 0.2
        with tempfile.TemporaryDirectory() as folder:
            outcome = await soak(url, twilio, Path(folder), stop, plan)
    name = {None: "no stops", signal.SIGTERM: "SIGTERM", signal.SIGKILL: "kill -9"}[stop]
    bound = outcome.stops * plan.concurrency if stop is signal.SIGKILL else 0
    # A killed worker exits with -9 by design; after SIGTERM or at the end every exit is 0.
    unclean = [code for code in outcome.exit_codes if code not in (0, -signal.SIGKILL)]
    print(
        f"{name:<9} {plan.messages:>6} due  {sum(outcome.received.values()):>6} calls  "
        f"lost {outcome.lost} (target 0)  twice {outcome.again} (target <= {bound})  "
        f"stops {outcome.stops:>3}  unclean exits {len(unclean)}  {outcome.seconds:5.0f} s "
        f"(at {plan.per_second:g}/s at best {plan.messages / plan.per_second:.0f} s)"
    )


def main() -> None:
    if postgres_url() is None:
        sys.exit("PostgreSQL is not reachable (ARREARS_BENCH_POSTGRES_URL or 127.0.0.1:5432)")
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    per_second = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    plan = Soak(
        messages=messages,
        per_second=per_second,
        lease=5,
        concurrency=8,
        grace=10,
        every=3.0,
        deadline=messages / per_second * 4 + 60,
    )
    print(f"3 workers, {messages} due SMS, {per_second:g}/s, lease 5 s, provider 0.2 s a call")
    for stop in (None, signal.SIGTERM, signal.SIGKILL):
        asyncio.run(run(stop, plan))


if __name__ == "__main__":
    main()
