"""Telegram updates in: deep-link starts, text messages and button taps, through aiogram.

Webhook mode checks Telegram's secret token on every call (SimpleRequestHandler with
secret_token); long polling serves installs without a public URL.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.runtime import Runtime
from handlers.linking import link_chat
from messaging.channels.base import InboundMessage
from messaging.channels.telegram import MenuChoice

WEBHOOK_PATH = "/webhooks/telegram"


def build_dispatcher(runtime: Runtime) -> Dispatcher:
    router = Router(name="tenants")

    @router.message(CommandStart(deep_link=True))
    async def start_with_link(message: Message, command: CommandObject) -> None:
        await link_chat(
            runtime.sessions,
            channel="telegram",
            token=command.args or "",
            address=str(message.chat.id),
            letterhead=runtime.letterhead,
            now=runtime.clock.now(),
        )

    @router.message(F.text)
    async def text(message: Message) -> None:
        await runtime.receive(
            InboundMessage(
                channel="telegram",
                address=str(message.chat.id),
                text=message.text or "",
                provider_id=f"{message.chat.id}:{message.message_id}",
                received_at=runtime.clock.now(),
            )
        )

    @router.callback_query(MenuChoice.filter())
    async def button(query: CallbackQuery, callback_data: MenuChoice) -> None:
        await query.answer()  # stops the button's spinner on the tenant's phone
        chat = query.message.chat.id if query.message else query.from_user.id
        await runtime.receive(
            InboundMessage(
                channel="telegram",
                address=str(chat),
                text=callback_data.choice,
                provider_id=f"cb:{query.id}",
                received_at=runtime.clock.now(),
            )
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def add_telegram_webhook(app: web.Application, runtime: Runtime, bot: Bot, secret: str) -> None:
    # In the foreground: Telegram's 200 means the message is stored, not merely received.
    SimpleRequestHandler(
        build_dispatcher(runtime), bot, secret_token=secret, handle_in_background=False
    ).register(app, path=WEBHOOK_PATH)
