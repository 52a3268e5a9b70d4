"""Telegram updates in: deep-link starts, text messages and button taps, through aiogram.

Webhook mode checks Telegram's secret token on every call (SimpleRequestHandler with
secret_token); long polling serves installs without a public URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Message, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from messaging.channels.base import InboundMessage
from messaging.channels.telegram import MenuChoice
from messaging.inbox import InboxBusy
from messaging.intake import Intake

WEBHOOK_PATH = "/webhooks/telegram"
log = logging.getLogger(__name__)


def build_dispatcher(intake: Intake) -> Dispatcher:
    """aiogram's dispatcher for tenants' updates; what they say goes to ``intake``."""
    router = Router(name="tenants")

    @router.message(CommandStart(deep_link=True))
    async def start_with_link(message: Message, command: CommandObject) -> None:
        await intake.link("telegram", command.args or "", str(message.chat.id))

    async def accept(inbound: InboundMessage) -> None:
        try:
            await intake.accept(inbound)
        except InboxBusy:
            # Telegram delivers the update again later; nothing was kept.
            raise web.HTTPServiceUnavailable(
                text="busy, try again", headers={"Retry-After": "5"}
            ) from None

    @router.message(F.text)
    async def text(message: Message) -> None:
        await accept(
            InboundMessage(
                channel="telegram",
                address=str(message.chat.id),
                text=message.text or "",
                provider_id=f"{message.chat.id}:{message.message_id}",
                received_at=intake.now(),
            )
        )

    @router.callback_query(MenuChoice.filter())
    async def button(query: CallbackQuery, callback_data: MenuChoice) -> None:
        await query.answer()  # stops the button's spinner on the tenant's phone
        chat = query.message.chat.id if query.message else query.from_user.id
        await accept(
            InboundMessage(
                channel="telegram",
                address=str(chat),
                text=callback_data.choice,
                provider_id=f"cb:{query.id}",
                received_at=intake.now(),
            )
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


class _Webhook(SimpleRequestHandler):
    """aiogram's handler, but an update it cannot read is a 400 (after the secret is
    checked), not a 500 that Telegram would send again and again."""

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            update = Update.model_validate(json.loads(await request.read()), context={"bot": bot})
        except (ValueError, RecursionError) as error:  # not JSON, not an update, too deep
            log.warning("telegram webhook: an update we cannot read (%s)", type(error).__name__)
            raise web.HTTPBadRequest(text="not a Telegram update") from None
        if update.message is None and update.callback_query is None:
            # Not what the webhook was registered for (ALLOWED_UPDATES); aiogram would warn
            # about it with the whole update, the tenant's words included, in the log.
            return web.json_response({})
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))


def add_telegram_webhook(app: web.Application, intake: Intake, bot: Bot, secret: str) -> None:
    # In the foreground: Telegram's 200 means the message is stored, not merely received.
    _Webhook(
        build_dispatcher(intake), bot, secret_token=secret, handle_in_background=False
    ).register(app, path=WEBHOOK_PATH)


ALLOWED_UPDATES = ["message", "callback_query"]


async def register_webhook(bot: Bot, public_base_url: str, secret: str) -> None:
    """Tell Telegram where to deliver updates, and the secret to send with each."""
    await bot.set_webhook(
        f"{public_base_url.rstrip('/')}{WEBHOOK_PATH}",
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )


class Polling:
    """Long polling for installs without a public URL: one process only, as Telegram hands
    each update to whichever poller asks first."""

    def __init__(self, intake: Intake, bot: Bot, timeout: int = 30) -> None:
        self._dispatcher = build_dispatcher(intake)
        self._bot = bot
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._bot.delete_webhook()  # Telegram refuses getUpdates while a webhook is set
        self._task = asyncio.create_task(
            self._dispatcher.start_polling(
                self._bot,
                polling_timeout=self._timeout,
                # Each update is handled before the next poll: none is lost on shutdown.
                handle_as_tasks=False,
                handle_signals=False,
                close_bot_session=False,  # the channel adapter keeps using it
                allowed_updates=ALLOWED_UPDATES,
            )
        )

    async def stop(self) -> None:
        if self._task is None:
            return
        if not self._task.done():
            await self._dispatcher.stop_polling()
        await self._task
        self._task = None
