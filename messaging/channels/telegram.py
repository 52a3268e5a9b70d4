"""Telegram through aiogram 3: sending, with the reply options as inline buttons.

A bot cannot write first: a tenant is reachable here only after opening our deep link
(handlers/linking.py), which gives us their chat id as the address.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from messaging.channels.base import (
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from messaging.ratelimit import RateLimiter
from messaging.render import buttons


class MenuChoice(CallbackData, prefix="menu"):
    """A tap on one of the reply options; packed it stays far below Telegram's 64 bytes."""

    choice: str


def keyboard(
    template: str | None, language: str, has_plan: bool = False
) -> InlineKeyboardMarkup | None:
    """The message's reply options as inline buttons, or None for a message without."""
    options = buttons(template, language, has_plan)
    if not options:
        return None
    builder = InlineKeyboardBuilder()
    for answer, label in options:
        builder.button(text=label, callback_data=MenuChoice(choice=answer))
    builder.adjust(1)
    return builder.as_markup()


def make_bot(token: str, api_base_url: str | None = None) -> Bot:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_base_url))
        if api_base_url
        else AiohttpSession()
    )
    return Bot(token, session=session)


class TelegramChannel:
    def __init__(
        self,
        bot: Bot,
        *,
        per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        max_chats: int = 10_000,
    ) -> None:
        self.bot = bot
        self._limiter = RateLimiter(per_second)
        self._per_chat_rate = per_chat_per_second
        self._chats: dict[str, RateLimiter] = {}
        self._max_chats = max_chats

    def chat_limiter(self, chat: str) -> RateLimiter:
        """One limiter per chat; idle ones are forgotten when there are many, so a long
        running process does not keep one for every chat it ever wrote to."""
        if chat not in self._chats and len(self._chats) >= self._max_chats:
            self._chats = {key: value for key, value in self._chats.items() if not value.idle}
        return self._chats.setdefault(chat, RateLimiter(self._per_chat_rate))

    async def send(self, message: OutboundMessage) -> SendResult:
        # The message's context: a tenant with an agreed plan is not offered another.
        markup = keyboard(
            message.template, message.language, message.variables.get("has_plan") == "True"
        )
        await self.chat_limiter(message.address).wait()
        await self._limiter.wait()
        try:
            sent = await self.bot.send_message(
                chat_id=int(message.address), text=message.body, reply_markup=markup
            )
        except TelegramRetryAfter as error:
            raise TransientSendError(error.message, "429", retry_after=error.retry_after) from error
        except TelegramForbiddenError as error:
            # The tenant blocked the bot or deleted the chat.
            raise PermanentSendError(error.message, "403", unreachable=True) from error
        except TelegramBadRequest as error:
            gone = "chat not found" in error.message.lower()
            raise PermanentSendError(error.message, "400", unreachable=gone) from error
        except (TelegramNetworkError, TelegramServerError) as error:
            raise TransientSendError(error.message) from error
        return SendResult(provider_id=f"{message.address}:{sent.message_id}")

    async def close(self) -> None:
        await self.bot.session.close()
