"""The dispatcher: claim queued messages, send them through their channel, record each outcome.

Claiming and recording are short transactions; sending happens between them, outside any
transaction, so a slow provider never holds a database lock. The clock is read at each
decision, never once per run:

- a claim holds a message for ``lease``; a heartbeat renews the leases of all the messages
  this worker holds, so a live worker never loses one to another worker, however slowly the
  provider (or its rate limit) lets it send;
- at most ``concurrency`` messages hold a send slot at once. A message takes a slot when
  its work starts (it then waits for an earlier message to its address, takes its turn in
  the provider's rate limit, is checked against the window and sent) and frees it only once
  its outcome is committed. The worker claims up to ``concurrency`` more ahead, so the next
  sends are claimed while these are sent; those have reached no provider and are given back
  on stop;
- provider rate limits are shared by all workers through the database
  (``messaging.send_budget``); the sends of a worker that take their turns at the same
  moment do so in one statement (``messaging.turns``);
- the sending window is checked just before each provider call, with a margin: a message
  whose moment has left the window goes back to the queue for the next allowed moment;
- a send's outcome is committed before its slot is freed and before it counts as done.
  Sends that finish close together are committed together, in one transaction
  (``messaging.recorder``), each waiting for the commit that holds its record; retries and
  failures, which are rare, are committed one by one (``messaging.outcomes``). So a crash
  re-sends at most the messages that held a slot and had reached their provider call: at
  most ``concurrency`` (Twilio's API has no idempotency key);
- ``stop`` stops claiming, gives back what has not reached the provider, lets the calls in
  flight finish (bounded) and records them.

Claiming and leases are ``messaging.claims``; one provider call is
``messaging.provider_call``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Protocol

from messaging.channels.base import ChannelAdapter, SendResult, TransientSendError
from messaging.claims import Claimed, claim_due, outbound_of, renew_leases
from messaging.connecting import KeptConnection, engine_of
from messaging.heartbeat import Heartbeat
from messaging.outcomes import DispatchResult, record_failed, record_retry, release
from messaging.provider_call import Outcome, call_provider
from messaging.recorder import Recorder, Sent
from messaging.send_budget import DatabaseBudget
from messaging.turns import Turns
from rules.clock import Clock
from rules.policy import Policy
from rules.retry import MAX_ATTEMPTS, retry_delay
from rules.sending_window import WindowCheck, next_allowed
from storage.db import SessionMaker, describe

__all__ = ["DispatchResult", "Dispatcher", "Observer", "outbound_of"]

log = logging.getLogger(__name__)

# A send must still be inside the sending window this long after it starts.
WINDOW_MARGIN = timedelta(seconds=2)
# A message whose handling hit an error (before its provider call) is tried again after this.
RETRY_AFTER_ERROR = timedelta(seconds=30)
# Looking for the claims of workers that died reads every message being sent (and what the
# database has not yet vacuumed of them): while the queue keeps a worker busy, at most this
# often (seconds); whenever it runs dry, at once. They were held a whole lease already.
LAPSED_EVERY = 5.0
# A turn less than this away is taken at once: the event loop's timers are no finer.
TIMER_RESOLUTION = 0.001


class Observer(Protocol):
    """Told of every outcome (the /metrics counters)."""

    def outcome(self, channel: str, what: str) -> None: ...

    def sent_in(self, channel: str, seconds: float) -> None: ...


class Dispatcher:
    """One worker's sender. ``drain()`` sends what is due and returns (tests, the headless
    demo, a consultant's reply); ``run()`` keeps sending until ``stop()``."""

    def __init__(
        self,
        sessions: SessionMaker,
        channels: Mapping[str, ChannelAdapter],
        policy: Policy,
        clock: Clock,
        *,
        concurrency: int = 8,
        lease: timedelta = timedelta(minutes=5),
        budget: DatabaseBudget | None = None,
        send_timeout: float = 15.0,
        poll_seconds: float = 5.0,
        observer: Observer | None = None,
    ) -> None:
        self._sessions = sessions
        self._engine = engine_of(sessions)
        self._channels = channels
        self._policy = policy
        self._clock = clock
        self._concurrency = max(1, concurrency)
        # Claimed at most: the sends holding a slot and as many waiting for one.
        self._holding = 2 * self._concurrency
        # A claim costs about as much for many messages as for one: claim when at least
        # this many fit (or none is waiting for a slot), not for each slot freed.
        self._batch = max(1, self._concurrency // 2)
        self._look_for_lapsed = 0.0  # time.monotonic() of the next look for lapsed claims
        self._lease = lease
        self._turns = Turns(budget) if budget is not None else None
        self._send_timeout = send_timeout
        self._poll = poll_seconds
        self._observer = observer
        self._recorder = Recorder(self._engine)
        self._claims = KeptConnection(self._engine)
        # One token per dispatcher: every claim it makes, and every lease it renews.
        self.token = secrets.token_hex(16)
        self._ready: deque[tuple[Claimed, DispatchResult]] = deque()  # claimed, no slot yet
        self._tasks: dict[int, asyncio.Task[None]] = {}  # holding a slot
        self._lines: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._calling: set[int] = set()  # handed to the provider
        self._finished = 0  # sends completed so far
        self._freed = asyncio.Event()  # a send completed
        self._wake = asyncio.Event()  # something was queued, or a send completed
        # The window is checked before each send; one check covers the sends of a second.
        self._outside_window = WindowCheck(policy.sending, policy.tz, WINDOW_MARGIN)
        self._stopping = False
        self._stop = asyncio.Event()
        self.running = False

    # -- running -------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def drain(self) -> DispatchResult:
        """Send everything due now; return when nothing due is left or in flight."""
        result = DispatchResult()
        async with self._working():
            while True:
                finished = self._finished
                self._freed.clear()
                if not self._stopping:
                    await self._fill(result)
                # A send that finished while we claimed may have queued a fallback that the
                # claim did not see yet: look once more before calling it done.
                if not self._tasks:
                    if finished == self._finished:
                        return result
                    continue
                await self._freed.wait()

    async def run(self) -> None:
        """Keep sending until ``stop()``."""
        self.running = True
        try:
            await self._run()
        finally:
            self.running = False

    async def _run(self) -> None:
        burst = DispatchResult()  # what was done since the dispatcher was last idle
        async with self._working():
            while not self._stopping:
                # Cleared before the claim: what is queued while it runs is looked for.
                self._wake.clear()
                try:
                    claimed = await self._fill(burst)
                except Exception as error:
                    log.error("could not claim messages (%s); trying again", describe(error))
                    claimed = []
                if claimed and self._held() < self._holding:
                    continue  # more may be due: claim until the worker holds its fill
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()
                if not self._tasks and (burst.sent or burst.failed or burst.retried):
                    _report(burst)
                    burst = DispatchResult()
            if self._tasks:
                await asyncio.wait(list(self._tasks.values()))
        _report(burst)

    async def stop(self, grace: float = 20.0) -> None:
        """Stop claiming; give back what has not reached a provider; wait up to ``grace``
        seconds for the calls in flight and record them."""
        self._stopping = True
        self._stop.set()  # wakes the sends waiting for their turn: they give back
        self._wake.set()
        await self._give_back([item for item, _ in self._ready])
        self._ready.clear()
        pending = list(self._tasks.values())
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                # Only provider calls outlast the grace: whether the provider took the
                # message is unknown, so it is retaken once its lease runs out.
                task.cancel()
            if late:
                log.warning("stopped with %d sends unanswered by the provider", len(late))
                await asyncio.wait(late)
        await self._recorder.settled()
        if self._turns is not None:
            await self._turns.settled()

    # -- claiming ------------------------------------------------------------------------

    def _held(self) -> int:
        return len(self._tasks) + len(self._ready)

    async def _fill(self, result: DispatchResult) -> list[Claimed]:
        # At most a slot's worth at a time: the first claim fills the send slots, and the
        # next ones, made while those are sent, claim as many again ahead; each for at least
        # half a slot's worth while some claimed message still waits for a slot.
        wanted = min(self._concurrency, self._holding - self._held())
        if wanted <= 0 or (wanted < self._batch and self._ready):
            return []
        now = self._clock.now()
        look = time.monotonic() >= self._look_for_lapsed
        claimed = await claim_due(self._claims, self.token, wanted, now, self._lease, lapsed=look)
        if not look and len(claimed) < wanted:
            # The queue ran dry: what is left due may be a dead worker's.
            more = await claim_due(
                self._claims, self.token, wanted - len(claimed), now, self._lease
            )
            claimed = sorted([*claimed, *more], key=lambda item: item.claim.message_id)
            look = True
        if look:
            self._look_for_lapsed = time.monotonic() + LAPSED_EVERY
        if self._stopping:  # stopped while claiming
            await self._give_back(claimed)
            return []
        self._ready.extend((item, result) for item in claimed)
        self._start()
        return claimed

    def _start(self) -> None:
        """Give free send slots to the oldest claimed messages."""
        while self._ready and len(self._tasks) < self._concurrency and not self._stopping:
            item, result = self._ready.popleft()
            # Two messages to one address go out in the order they were written (a chat's
            # "linked" before the question that follows it): the later waits for the earlier.
            line = (item.message.channel, item.message.address)
            task = asyncio.create_task(self._handle(item, result, self._lines.get(line)))
            self._tasks[item.claim.message_id] = task
            self._lines[line] = task
            task.add_done_callback(self._forget(item.claim.message_id, line))

    async def _give_back(self, items: list[Claimed]) -> None:
        """Stopping before the provider saw them: due again at once, for another worker."""
        try:
            await release(self._sessions, [item.claim for item in items], None)
        except Exception as error:
            log.error("could not give back %d messages (%s)", len(items), describe(error))

    def _forget(
        self, message_id: int, line: tuple[str, str]
    ) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._tasks.pop(message_id, None)
            if self._lines.get(line) is task:
                del self._lines[line]
            self._finished += 1
            self._freed.set()
            self._wake.set()
            self._start()

        return done

    @contextlib.asynccontextmanager
    async def _working(self) -> AsyncIterator[None]:
        """While open, renews this dispatcher's leases every third of a lease, and the
        claims, the turns and the group commits each keep their connection."""
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self._claims.keep())
            await stack.enter_async_context(self._recorder.keep())
            if self._turns is not None:
                await stack.enter_async_context(self._turns.keep())
            await stack.enter_async_context(
                Heartbeat(self._lease.total_seconds() / 3, self.renew, "send leases")
            )
            yield

    async def renew(self) -> int:
        """Push the lease of every message this worker is still working on. One whose
        work ended without a record (an error) is not renewed: its lease runs out and
        another worker takes it."""
        until = self._clock.now() + self._lease
        held = [*self._tasks, *(item.claim.message_id for item, _ in self._ready)]
        return await renew_leases(self._sessions, self.token, held, until)

    # -- one message ---------------------------------------------------------------------

    async def _handle(
        self, item: Claimed, result: DispatchResult, after: asyncio.Task[None] | None
    ) -> None:
        try:
            if after is not None:
                await asyncio.wait([after])
            await self._work(item, result)
        except Exception as error:
            # A database error, say. Before the provider call the message is given back for
            # a little later; after it, the claim is left to lapse (the lease), since
            # whether the provider took it is known only to the provider.
            log.error("message %d: %s", item.claim.message_id, describe(error))
            if item.claim.message_id not in self._calling:
                later = self._clock.now() + RETRY_AFTER_ERROR
                with contextlib.suppress(Exception):
                    await release(self._sessions, [item.claim], later)
        finally:
            self._calling.discard(item.claim.message_id)

    async def _work(self, item: Claimed, result: DispatchResult) -> None:
        claim = item.claim
        # Database work is never cancelled half-way: a stop is noticed between steps.
        if self._turns is not None:
            wait = await self._turns.take(claim.channel)
            if wait >= TIMER_RESOLUTION and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), wait)
        if self._stopping:
            # Stopping before the provider saw it: due again at once, for another worker.
            await release(self._sessions, [claim], None)
            return
        if item.respect_quiet_hours:
            later = self._outside_window(self._clock.now())
            if later is not None:
                await release(self._sessions, [claim], later)
                result.deferred += 1
                return
        self._calling.add(claim.message_id)
        started = time.perf_counter()
        outcome = await call_provider(self._channels, item.message, self._send_timeout)
        await self._record(item, outcome, result)
        if self._observer is not None:
            self._observer.sent_in(claim.channel, time.perf_counter() - started)

    async def _record(self, item: Claimed, outcome: Outcome, result: DispatchResult) -> None:
        claim = item.claim
        now = self._clock.now()
        if isinstance(outcome, SendResult):
            if await self._recorder.sent(Sent(claim, outcome.provider_id, now)):
                result.sent += 1
                result.by_channel[claim.channel] = result.by_channel.get(claim.channel, 0) + 1
                self._observe(claim.channel, "sent")
            return
        if isinstance(outcome, TransientSendError) and claim.attempts < MAX_ATTEMPTS:
            retry_at = now + retry_delay(claim.attempts, outcome.retry_after)
            if item.respect_quiet_hours:
                retry_at = next_allowed(retry_at, self._policy.sending, self._policy.tz)
            if await record_retry(self._sessions, claim, outcome, retry_at, now):
                result.retried += 1
                self._observe(claim.channel, "retried")
            return
        fell_back = await record_failed(self._sessions, claim, outcome, self._channels.keys(), now)
        if fell_back is None:
            return
        result.failed += 1
        result.fell_back += int(fell_back)
        self._observe(claim.channel, "failed")

    def _observe(self, channel: str, what: str) -> None:
        if self._observer is not None:
            self._observer.outcome(channel, what)


def _report(result: DispatchResult) -> None:
    """Counts only: names, numbers and amounts stay out of the logs."""
    if result.sent or result.failed or result.retried or result.deferred:
        log.info(
            "dispatch: %d sent %s, %d retried, %d failed, %d fell back, %d deferred",
            result.sent,
            result.by_channel,
            result.retried,
            result.failed,
            result.fell_back,
            result.deferred,
        )
