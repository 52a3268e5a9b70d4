"""The municipal early signal, for coordinators: the candidates, an export, and the files of
a batch sent."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from storage.models import SignalBatch
from workplace import case_pages, signals
from workplace.host import host
from workplace.labels import translator
from workplace.request_helpers import coordinator, login, page, problem, with_problem


async def signals_page(request: web.Request) -> web.Response:
    coordinator(request)
    root = host(request)
    today = root.clock.now().astimezone(root.policy.tz).date()
    async with root.sessions() as session:
        found = await signals.candidates(session, root.policy, today)
        batches = list(
            await session.scalars(select(SignalBatch).order_by(SignalBatch.id.desc()).limit(50))
        )
    language, rules = login(request).language, root.policy.signal
    t = translator(language)
    return page(
        request,
        "wp_signals.html",
        ready=[c for c in found if c.ready],
        waiting=[c for c in found if not c.ready],
        batches=batches,
        problem=problem(request),
        criteria=signals.criteria(rules, t, language),
        why=lambda candidate: signals.reasons(candidate, rules, t, language, root.policy.tz),
        **case_pages.wording(language, root.policy.tz),
    )


async def signals_export(request: web.Request) -> web.Response:
    coordinator(request)
    root = host(request)
    form = await request.post()
    chosen = [int(str(v)) for v in form.getall("case", []) if str(v).isdigit()]
    try:
        async with root.sessions() as session, session.begin():
            batch = await signals.export(
                session, root.policy, chosen, login(request).user, root.clock.now()
            )
    except ValueError as refused:
        raise with_problem(request, "/signals", refused) from None
    raise web.HTTPSeeOther(f"/signals?batch={batch.id}")


async def signals_batch(request: web.Request) -> web.Response:
    coordinator(request)
    batch_id = int(request.match_info["batch_id"])
    async with host(request).sessions() as session:
        found = await signals.batch_signals(session, batch_id)
    if not found:
        raise web.HTTPNotFound(text="no such batch")
    name = f"vroegsignalen-{batch_id}"
    if request.match_info["format"] == "csv":
        return web.Response(
            text=signals.as_csv(found),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    response = web.json_response(signals.as_json(found))
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response
