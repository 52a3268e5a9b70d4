"""The composition root: builds engine, channels and policy, and closes them in reverse order."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from handlers.arrears_source import ArrearsOnDisk, ArrearsSource, ArrearsText
from handlers.importer import ImportSummary, Watcher, import_arrears
from handlers.inbound import InboundResult
from handlers.inbox import Conversation, InboxWorker, drain
from handlers.tick import Invites, TickResult, tick
from messaging.channels.base import ChannelAdapter, InboundMessage
from messaging.channels.email import EmailChannel
from messaging.channels.sandbox import SandboxChannel
from messaging.channels.telegram import TelegramChannel, make_bot
from messaging.channels.twilio import TwilioChannel
from messaging.dispatcher import Dispatcher, DispatchResult, Observer
from messaging.inbox import Inbox
from messaging.outbox import Letterhead
from messaging.send_budget import DatabaseBudget
from rules.clock import Clock, SystemClock
from rules.policy import CHANNELS, Policy, load_policy
from storage.db import SessionMaker, create_engine, session_maker
from storage.migrate import upgrade

log = logging.getLogger(__name__)


def build_channels(
    settings: Settings, sandbox: SandboxChannel | None = None
) -> dict[str, ChannelAdapter]:
    """Every channel with credentials gets its adapter; in sandbox mode the rest go to the
    sandbox, so the service runs without any provider account."""
    channels: dict[str, ChannelAdapter] = {}
    if settings.twilio_account_sid and settings.twilio_auth_token:
        callback = (
            f"{settings.public_base_url.rstrip('/')}/webhooks/twilio/status"
            if settings.public_base_url
            else None
        )
        # Their rates are kept by the dispatcher's shared budget (rate_limits below).
        senders = {"sms": settings.twilio_sms_from, "whatsapp": settings.twilio_whatsapp_from}
        for name, sender in senders.items():
            if sender:
                channels[name] = TwilioChannel(
                    channel=name,
                    account_sid=settings.twilio_account_sid,
                    auth_token=settings.twilio_auth_token.get_secret_value(),
                    sender=sender,
                    status_callback=callback,
                    content_sids=settings.whatsapp_content_sids,
                    api_base_url=settings.twilio_api_base_url,
                    connections=settings.send_concurrency,
                )
    if settings.telegram_bot_token:
        channels["telegram"] = TelegramChannel(
            make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base_url)
        )
    if settings.smtp_host:
        channels["email"] = EmailChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
    if settings.sandbox:
        shared = sandbox or SandboxChannel()
        for name in CHANNELS:
            channels.setdefault(name, shared)
    return channels


def rate_limits(settings: Settings, channels: dict[str, ChannelAdapter]) -> dict[str, float]:
    """Sends per second per provider sender, for the channels that go to a real provider."""
    limits = {
        "sms": settings.twilio_sms_per_second,
        "whatsapp": settings.twilio_whatsapp_per_second,
        "telegram": settings.telegram_per_second,
    }
    return {
        name: rate
        for name, rate in limits.items()
        if isinstance(channels.get(name), TwilioChannel | TelegramChannel)
    }


class RuntimeObserver(Observer, Protocol):
    """Told what the workers do (the /metrics counters)."""

    def ticked(self, seconds: float, queued: int) -> None: ...

    def handled(self, matched: bool) -> None: ...


class _Following:
    """The runtime's clock as it is now: the live demo swaps it after start-up."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def now(self) -> datetime:
        return self._runtime.clock.now()


@dataclass
class Runtime:
    settings: Settings
    policy: Policy
    engine: AsyncEngine
    sessions: SessionMaker
    channels: dict[str, ChannelAdapter]
    clock: Clock = field(default_factory=SystemClock)
    observer: RuntimeObserver | None = None
    # People's time, when it differs from the tenants' world (the live demo runs `clock` a
    # day in ten seconds); None: the same as `clock`, which tests move by hand.
    wall: Clock | None = None
    dispatcher: Dispatcher = field(init=False)
    inbox: Inbox = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        following = _Following(self)
        self.dispatcher = Dispatcher(
            self.sessions,
            self.channels,
            self.policy,
            following,
            concurrency=settings.send_concurrency,
            lease=timedelta(seconds=settings.send_lease_seconds),
            budget=DatabaseBudget(self.sessions, rate_limits(settings, self.channels)),
            send_timeout=settings.send_timeout_seconds,
            poll_seconds=settings.dispatch_seconds,
            observer=self.observer,
        )
        # Webhooks store through one writer (group commits): one connection however many.
        self.inbox = Inbox(self.engine, following.now, max_wait=settings.webhook_max_wait_seconds)

    @property
    def wall_clock(self) -> Clock:
        """The clock of what people do in real time: logins and their expiry, holds after
        failed logins, accounts. A consultant's eight-hour login must last eight hours, not
        the three seconds it is in a fast world."""
        return self.wall if self.wall is not None else self.clock

    def inbox_worker(self) -> InboxWorker:
        return InboxWorker(
            self.sessions,
            self.conversation,
            _Following(self),
            concurrency=self.settings.inbox_concurrency,
            poll_seconds=self.settings.inbox_seconds,
            handled=self._handled,
            intake_busy=self.inbox.busy,
        )

    def _handled(self, result: InboundResult) -> None:
        self.dispatcher.wake()  # the answer goes out now, not at the next poll
        if self.observer is not None:
            self.observer.handled(result.matched)

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        channels: dict[str, ChannelAdapter] | None = None,
        migrate: bool = True,
        observer: RuntimeObserver | None = None,
    ) -> Runtime:
        policy = load_policy(settings.policy_file)
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        if migrate:
            await upgrade(engine)
        runtime = cls(
            settings=settings,
            policy=policy,
            engine=engine,
            sessions=session_maker(engine),
            channels=channels if channels is not None else build_channels(settings),
            clock=clock or SystemClock(),
            observer=observer,
            wall=wall_clock,
        )
        return runtime

    def warn_when_silent(self) -> None:
        """Said by the commands that send (serve, worker); a listing or an import has no
        use for it."""
        log.info(
            "channels on: %s",
            ", ".join(
                f"{name} ({type(adapter).__name__.removesuffix('Channel').lower()})"
                for name, adapter in sorted(self.channels.items())
            )
            or "none",
        )
        if not self.channels:
            log.warning(
                "no channel is on: reminders cannot go out and cases escalate as unreachable; "
                "set a provider's credentials (docs/OPERATIONS.md), or ARREARS_SANDBOX=true "
                "on a development machine"
            )

    @property
    def letterhead(self) -> Letterhead:
        return Letterhead(
            self.settings.corporation_name,
            self.settings.corporation_phone,
            self.policy.texts.greeting,
        )

    async def close(self) -> None:
        for adapter in {id(a): a for a in self.channels.values()}.values():
            await adapter.close()
        await self.engine.dispose()

    @property
    def invites(self) -> Invites | None:
        username = self.settings.telegram_bot_username
        if "telegram" not in self.channels or not username:
            return None
        return Invites(f"https://t.me/{username}?start=", self.settings.telegram_link_days)

    async def tick(self) -> TickResult:
        started = time.perf_counter()
        result = await self._tick()
        if self.observer is not None:
            self.observer.ticked(time.perf_counter() - started, result.queued)
        return result

    async def _tick(self) -> TickResult:
        return await tick(
            self.sessions,
            self.policy,
            _Following(self).now,
            available=self.channels.keys(),
            letterhead=self.letterhead,
            batch_size=self.settings.batch_size,
            invites=self.invites,
        )

    async def dispatch(self) -> DispatchResult:
        """Send everything due now and return (tests, the demo, the sandbox)."""
        return await self.dispatcher.drain()

    async def send_soon(self) -> None:
        """Something was queued that a person waits for: send it now. With the workers
        running, wake the dispatcher; without them, send here."""
        if self.dispatcher.running:
            self.dispatcher.wake()
        else:
            await self.dispatch()

    @property
    def conversation(self) -> Conversation:
        return Conversation(self.policy, self.letterhead, self.settings.payment_iban)

    async def accept(self, inbound: InboundMessage) -> int | None:
        """Store a tenant's message for the workers (webhooks); raises InboxBusy."""
        return await self.inbox.accept(inbound)

    async def handle_inbox(self) -> list[InboundResult]:
        """Handle every tenant's message waiting in the inbox, here and now."""
        results = await drain(self.sessions, self.conversation, _Following(self))
        for result in results:
            self._handled(result)
        return results

    async def receive(self, inbound: InboundMessage) -> InboundResult:
        """Store a tenant's message and handle it here and now (tests, the demo, the
        sandbox), with any earlier message from the same address first."""
        message_id = await self.inbox.accept(inbound)
        if message_id is None:
            return InboundResult(None, matched=False)
        address = (inbound.channel, inbound.address.replace("\x00", "")[:320])
        results = await drain(self.sessions, self.conversation, _Following(self), address)
        for result in results:
            self._handled(result)
        mine = [result for result in results if result.message_id == message_id]
        return mine[0] if mine else InboundResult(message_id, matched=False)

    def today(self) -> date:
        return self.clock.now().astimezone(self.policy.tz).date()

    async def import_data(self, data: bytes, filename: str) -> ImportSummary:
        """Import an arrears file's bytes; raises ArrearsFileError naming every bad line."""
        return await self.import_source(ArrearsText(data, today=self.today()), filename)

    async def import_file(self, path: Path, progress: Watcher | None = None) -> ImportSummary:
        """Import an arrears file from disk, streamed: memory stays flat however long."""
        source = ArrearsOnDisk(path, today=self.today())
        return await self.import_source(source, path.name, progress)

    async def import_source(
        self, source: ArrearsSource, filename: str, progress: Watcher | None = None
    ) -> ImportSummary:
        return await import_arrears(
            self.sessions,
            source,
            filename=filename,
            policy=self.policy,
            letterhead=self.letterhead,
            available=self.channels.keys(),
            now=self.clock.now(),
            progress=progress,
        )
