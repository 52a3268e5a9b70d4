"""The queue: escalated cases for the consultant's team, and its JSON twin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from workplace import case_pages
from workplace.host import host
from workplace.queries import QueueFilter, queue, unmatched
from workplace.request_helpers import login, page, scope


def _filter(request: web.Request) -> QueueFilter:
    query = request.query
    who = query.get("who", "all")
    return QueueFilter(
        reason=query.get("reason") or None,
        who=who if who in ("mine", "unassigned", "all") else "all",
        channel=query.get("channel") or None,
        municipality=query.get("municipality") or None,
    )


async def _queue_rows(request: web.Request) -> tuple[QueueFilter, list[Any]]:
    root = host(request)
    chosen = _filter(request)
    async with root.sessions() as session:
        rows = await queue(
            session,
            login(request).user,
            chosen,
            now=root.clock.now(),
            target_hours=root.policy.escalation.response_target_hours,
            scope=scope(request),
        )
    return chosen, rows


async def queue_page(request: web.Request) -> web.Response:
    chosen, rows = await _queue_rows(request)
    root = host(request)
    strangers: list[Any] = []
    if scope(request) is None:  # not tied to a municipality: for those who see all
        async with root.sessions() as session:
            strangers = await unmatched(session, root.clock.now() - timedelta(days=30))
    return page(
        request,
        "wp_queue.html",
        rows=rows,
        chosen=chosen,
        target=root.policy.escalation.response_target_hours,
        reasons=sorted(
            {row.reason for row in rows} | ({chosen.reason} if chosen.reason else set())
        ),
        channels=["whatsapp", "sms", "telegram", "email"],
        strangers=strangers,
        **case_pages.wording(login(request).language, root.policy.tz),
    )


async def queue_api(request: web.Request) -> web.Response:
    _, rows = await _queue_rows(request)
    return web.json_response({"cases": [row.as_json() for row in rows]})
