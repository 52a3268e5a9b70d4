"""The sandbox page: each tenant's conversation shown like a phone, and a box to answer as
that tenant. A development tool, mounted only with ``ARREARS_SANDBOX=true`` (which the
settings refuse next to any real provider or public URL). Even then it answers only a
browser on this machine that asked for localhost and came through no proxy, and its form
carries a CSRF token."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from jinja2 import Environment, PackageLoader
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.local_requests import addressed_locally, from_this_machine
from bot.web import RUNTIME
from messaging.channels.base import InboundMessage
from messaging.inbox import InboxBusy
from rules.intents import parse_reply
from storage.models import Case, ContactPoint, Message, Tenant
from workplace.formats import euros
from workplace.labels import code_labels, translator
from workplace.rendering import environment, respond
from workplace.words import INTENTS, Vocabulary, stage, word

_CSRF_COOKIE = "arrears_sandbox_csrf"
_BACK = re.compile(r"/sandbox(/tenants/[0-9]{1,9})?")


@lru_cache(maxsize=1)
def _pages() -> Environment:
    """The sandbox's pages (bot/pages), on the workplace's base.html and filters."""
    return environment(PackageLoader("bot", "pages"))


@web.middleware
async def _local_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/sandbox") and not (
        from_this_machine(request) and addressed_locally(request)
    ):
        raise web.HTTPForbidden(
            text="The sandbox is a development tool: open it on this machine, "
            "as http://127.0.0.1 or http://localhost, not through a proxy."
        )
    return await handler(request)


def _understood(message: Message) -> str:
    """What the bot made of a tenant's message, in words; a crisis said as such."""
    meaning = word(INTENTS, message.intent, "en")
    return f"in crisis, {meaning}" if parse_reply(message.body).crisis else meaning


def _went(message: Message) -> datetime | None:
    """When a message really went (or came in); None while it waits to be sent."""
    if message.direction == "in":
        return message.created_at
    if message.status in ("queued", "sending"):
        return None
    return message.sent_at or message.created_at


def _problem(error: str | None) -> str:
    """A provider's error without its number ("63003 not a WhatsApp user")."""
    return re.sub(r"^\s*\d+\s*[:-]?\s*", "", error or "")


def _with_csrf(request: web.Request, template: str, **context: Any) -> web.Response:
    token = request.cookies.get(_CSRF_COOKIE) or secrets.token_urlsafe(24)
    # The sandbox is a developer's page and speaks English, its <html lang> too.
    # Codes (status, stage, reason, intent) in words, as on the workplace's pages.
    response = respond(
        _pages(),
        template,
        csrf=token,
        lang="en",
        t=translator("en"),
        say=Vocabulary("en"),
        code=code_labels("en"),
        intent=_understood,
        went=_went,
        problem=_problem,
        money=lambda cents: euros(cents, "en"),
        **context,
    )
    response.set_cookie(_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/sandbox")
    return response


async def overview(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        last = (
            select(
                Message.tenant_id,
                func.max(Message.id).label("last_id"),
                func.count().label("count"),
            )
            .where(Message.tenant_id.is_not(None))
            .group_by(Message.tenant_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(Tenant, last.c.count, Message)
                .join(last, last.c.tenant_id == Tenant.id)
                .join(Message, Message.id == last.c.last_id)
                .order_by(last.c.last_id.desc())
                .limit(300)
            )
        ).all()
        quiet = list(
            await session.scalars(
                select(Tenant)
                .where(~Tenant.id.in_(select(last.c.tenant_id)))
                .order_by(Tenant.id)
                .limit(100)
            )
        )
        unknown = list(
            await session.scalars(
                select(Message)
                .where(Message.tenant_id.is_(None))
                .order_by(Message.id.desc())
                .limit(50)
            )
        )
    return _with_csrf(
        request,
        "sandbox_index.html",
        rows=rows,
        quiet=quiet,
        unknown=unknown,
        now=runtime.clock.now(),
        tz=runtime.policy.tz,
        channels=sorted(runtime.channels),
    )


async def phone(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    tenant_id = int(request.match_info["tenant_id"])
    async with runtime.sessions() as session:
        tenant = await session.scalar(
            select(Tenant)
            .where(Tenant.id == tenant_id)
            .options(selectinload(Tenant.contact_points))
        )
        if tenant is None:
            raise web.HTTPNotFound(text="no such tenant")
        messages = list(
            await session.scalars(
                select(Message).where(Message.tenant_id == tenant_id).order_by(Message.id)
            )
        )
        case = await session.scalar(
            select(Case).where(Case.tenant_id == tenant_id).order_by(Case.id.desc()).limit(1)
        )
    points = sorted(tenant.contact_points, key=lambda p: (p.channel, p.id))
    stages = runtime.policy.stages
    reached = (
        f"after {stage(stages[case.stage - 1].name, 'en')} reminder"
        if case and 0 < case.stage <= len(stages)
        else "no reminder yet"
    )
    return _with_csrf(
        request,
        "sandbox_phone.html",
        reached=reached,
        tenant=tenant,
        messages=messages,
        case=case,
        points=points,
        chosen=_conversation_point(points, messages),
        now=runtime.clock.now(),
        tz=runtime.policy.tz,
    )


def _conversation_point(points: list[ContactPoint], messages: list[Message]) -> int | None:
    """The contact point the conversation is on, for the answer to go back on: where the
    tenant last wrote from, else where the bot last wrote to (messages oldest first)."""
    ids = {(point.channel, point.address): point.id for point in points}
    for direction in ("in", "out"):
        for message in reversed(messages):
            if message.direction == direction and (message.channel, message.address) in ids:
                return ids[(message.channel, message.address)]
    return None


async def reply(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    form = await request.post()
    expected = request.cookies.get(_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf", "")), expected):
        raise web.HTTPForbidden(text="This form has expired. Go back, reload and try again.")
    text = str(form.get("text", "")).strip()  # NUL and the like: refused before (request_guards)
    back = str(form.get("back", "/sandbox"))
    if not _BACK.fullmatch(back):
        back = "/sandbox"
    point_id = str(form.get("contact_point", "")).strip()
    channel = str(form.get("channel", ""))
    address = str(form.get("address", "")).strip()
    if point_id:
        point = None
        if re.fullmatch(r"[0-9]{1,9}", point_id):
            async with runtime.sessions() as session:
                point = await session.get(ContactPoint, int(point_id))
        if point is None:
            raise web.HTTPBadRequest(text="no such contact point")
        channel, address = point.channel, point.address
    if not text or channel not in runtime.channels or not address:
        raise web.HTTPBadRequest(text="a reply needs a channel, an address and some text")
    try:
        await runtime.receive(
            InboundMessage(
                channel=channel,
                address=address,
                text=text,
                provider_id=f"sbx-in-{uuid.uuid4().hex}",
                received_at=runtime.clock.now(),
            )
        )
    except InboxBusy:
        raise web.HTTPServiceUnavailable(text="busy, try again in a moment") from None
    # Answer the tenant now rather than at the next dispatch run.
    await runtime.send_soon()
    raise web.HTTPSeeOther(back)


def add_sandbox_routes(app: web.Application) -> None:
    app.middlewares.append(_local_only)
    app.router.add_get("/sandbox", overview)
    app.router.add_get("/sandbox/tenants/{tenant_id:[0-9]{1,9}}", phone)
    app.router.add_post("/sandbox/reply", reply)
