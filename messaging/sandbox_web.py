"""The sandbox page: each tenant's conversation shown like a phone, and a box to answer as
that tenant. A development tool: it answers only requests from this machine."""

from __future__ import annotations

import ipaddress
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.web import RUNTIME, render_page
from messaging.channels.base import InboundMessage
from messaging.inbox import InboxBusy
from storage.models import Case, ContactPoint, Message, Tenant


@web.middleware
async def _local_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/sandbox"):
        remote = request.remote or ""
        try:
            local = ipaddress.ip_address(remote).is_loopback
        except ValueError:
            local = False
        if not local:
            raise web.HTTPForbidden(text="the sandbox answers only on this machine")
    return await handler(request)


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
    return render_page(
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
    return render_page(
        "sandbox_phone.html",
        tenant=tenant,
        messages=messages,
        case=case,
        points=points,
        now=runtime.clock.now(),
        tz=runtime.policy.tz,
    )


async def reply(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    form = await request.post()
    text = str(form.get("text", "")).strip()
    back = str(form.get("back", "/sandbox"))
    if not back.startswith("/sandbox"):
        back = "/sandbox"
    point_id = form.get("contact_point")
    channel = str(form.get("channel", ""))
    address = str(form.get("address", "")).strip()
    if point_id:
        async with runtime.sessions() as session:
            point = await session.get(ContactPoint, int(str(point_id)))
            if point is None:
                raise web.HTTPBadRequest(text="no such contact point")
            channel, address = point.channel, point.address
    if not text or not channel or not address:
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
    app.router.add_get("/sandbox/tenants/{tenant_id:\\d+}", phone)
    app.router.add_post("/sandbox/reply", reply)
