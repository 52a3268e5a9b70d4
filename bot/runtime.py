"""The composition root: builds engine, channels and policy, and closes them in reverse order."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock, SystemClock
from bot.policy import CHANNELS, Policy, load_policy
from bot.settings import Settings
from bot.tick import Invites, TickResult, tick
from handlers.inbound import InboundResult, handle_inbound
from messaging.channels.base import ChannelAdapter, InboundMessage
from messaging.channels.email import EmailChannel
from messaging.channels.sandbox import SandboxChannel
from messaging.channels.telegram import TelegramChannel, make_bot
from messaging.channels.twilio import TwilioChannel
from messaging.dispatcher import DispatchResult, dispatch
from messaging.outbox import Letterhead
from storage.arrears_file import parse_arrears_file
from storage.db import SessionMaker, create_engine, session_maker
from storage.importer import ImportSummary, import_arrears
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
        senders = {
            "sms": (settings.twilio_sms_from, settings.twilio_sms_per_second),
            "whatsapp": (settings.twilio_whatsapp_from, settings.twilio_whatsapp_per_second),
        }
        for name, (sender, per_second) in senders.items():
            if sender:
                channels[name] = TwilioChannel(
                    channel=name,
                    account_sid=settings.twilio_account_sid,
                    auth_token=settings.twilio_auth_token.get_secret_value(),
                    sender=sender,
                    per_second=per_second,
                    status_callback=callback,
                    content_sids=settings.whatsapp_content_sids,
                    api_base_url=settings.twilio_api_base_url,
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


@dataclass
class Runtime:
    settings: Settings
    policy: Policy
    engine: AsyncEngine
    sessions: SessionMaker
    channels: dict[str, ChannelAdapter]
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        channels: dict[str, ChannelAdapter] | None = None,
        migrate: bool = True,
    ) -> Runtime:
        policy = load_policy(settings.policy_file)
        engine = create_engine(settings.database_url)
        if migrate:
            await upgrade(engine)
        runtime = cls(
            settings=settings,
            policy=policy,
            engine=engine,
            sessions=session_maker(engine),
            channels=channels if channels is not None else build_channels(settings),
            clock=clock or SystemClock(),
        )
        log.info(
            "channels on: %s",
            ", ".join(
                f"{name} ({type(adapter).__name__.removesuffix('Channel').lower()})"
                for name, adapter in sorted(runtime.channels.items())
            )
            or "none",
        )
        return runtime

    @property
    def letterhead(self) -> Letterhead:
        return Letterhead(self.settings.corporation_name, self.settings.corporation_phone)

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
        return await tick(
            self.sessions,
            self.policy,
            self.clock.now(),
            available=self.channels.keys(),
            letterhead=self.letterhead,
            batch_size=self.settings.batch_size,
            invites=self.invites,
        )

    async def dispatch(self) -> DispatchResult:
        return await dispatch(
            self.sessions,
            self.channels,
            self.policy,
            self.clock.now(),
            batch_size=self.settings.batch_size,
            lease=timedelta(seconds=self.settings.send_lease_seconds),
        )

    async def receive(self, inbound: InboundMessage) -> InboundResult:
        return await handle_inbound(
            self.sessions,
            inbound,
            policy=self.policy,
            letterhead=self.letterhead,
            now=self.clock.now(),
            payment_iban=self.settings.payment_iban,
        )

    async def import_data(self, data: bytes, filename: str) -> ImportSummary:
        """Import an arrears file's bytes; raises ArrearsFileError naming every bad line."""
        parsed = parse_arrears_file(data)
        return await import_arrears(
            self.sessions,
            parsed,
            filename=filename,
            policy=self.policy,
            letterhead=self.letterhead,
            available=self.channels.keys(),
            now=self.clock.now(),
        )
