"""A fake Telegram Bot API server on 127.0.0.1, answering aiogram as Telegram would."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import serve_on_loopback

TOKEN = "42:TEST-token_for-the-fake"
BOT_USER = {"id": 42, "is_bot": True, "first_name": "Huurbot", "username": "huur_test_bot"}


@dataclass
class Call:
    token: str
    method: str
    fields: dict[str, str]


@dataclass
class FakeTelegram:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    # chat id → (HTTP status, description, retry_after)
    failures: dict[str, tuple[int, str, int | None]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    # Long polling: updates waiting for getUpdates; ``drained`` is set by the first poll
    # that finds none left after some were served (so they have been handled).
    updates: list[dict[str, Any]] = field(default_factory=list)
    drained: asyncio.Event = field(default_factory=asyncio.Event)
    _served: bool = False

    def sent(self) -> list[Call]:
        return [call for call in self.calls if call.method == "sendMessage"]

    async def method(self, request: web.Request) -> web.Response:
        fields = {key: str(value) for key, value in (await request.post()).items()}
        token = request.match_info["token"]
        method = request.match_info["method"]
        self.calls.append(Call(token, method, fields))
        if method == "getMe":
            return web.json_response({"ok": True, "result": BOT_USER})
        if method == "getUpdates":
            if self.updates:
                served, self.updates = self.updates, []
                self._served = True
                return web.json_response({"ok": True, "result": served})
            if self._served:
                self.drained.set()
            return web.json_response({"ok": True, "result": []})
        if method in ("answerCallbackQuery", "setWebhook", "deleteWebhook"):
            return web.json_response({"ok": True, "result": True})
        if method == "sendMessage":
            chat = fields["chat_id"]
            if chat in self.failures:
                status, description, retry_after = self.failures[chat]
                body: dict[str, Any] = {
                    "ok": False,
                    "error_code": status,
                    "description": description,
                }
                if retry_after is not None:
                    body["parameters"] = {"retry_after": retry_after}
                return web.json_response(body, status=status)
            return web.json_response(
                {
                    "ok": True,
                    "result": {
                        "message_id": next(self._ids),
                        "date": 1764583200,
                        "chat": {"id": int(chat), "type": "private"},
                        "from": BOT_USER,
                        "text": fields.get("text", ""),
                    },
                }
            )
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )


@asynccontextmanager
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.method)
    async with serve_on_loopback(app) as url:
        fake.url = url
        yield fake


def message_update(update_id: int, chat_id: int, text: str, message_id: int = 1) -> dict[str, Any]:
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/")
        else []
    )
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": 1764583200,
            "chat": {"id": chat_id, "type": "private", "first_name": "Anna"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Anna"},
            "text": text,
            "entities": entities,
        },
    }


def button_update(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq{update_id}",
            "chat_instance": "1",
            "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Anna"},
            "message": {
                "message_id": 9,
                "date": 1764583200,
                "chat": {"id": chat_id, "type": "private"},
                "text": "...",
            },
        },
    }
