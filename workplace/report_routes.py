"""The report over a period: the page with its charts, and its JSON twin."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from aiohttp import web

from workplace import case_pages, reports
from workplace.host import host
from workplace.labels import translator
from workplace.request_helpers import login, page

# Reports count days within the period; a period beyond these is a typo, not a question.
_FIRST_DAY, _LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _period(request: web.Request) -> tuple[date, date]:
    """The chosen period, inclusive dates; by default the last 30 days of the tenants' world
    (the simulated month in the demo, whatever the date on the wall)."""
    root = host(request)
    today = root.clock.now().astimezone(root.policy.tz).date()
    try:
        end = date.fromisoformat(request.query.get("to", "")) if request.query.get("to") else today
        start = (
            date.fromisoformat(request.query["from"])
            if request.query.get("from")
            else end - timedelta(days=29)
        )
    except ValueError:
        raise web.HTTPBadRequest(text="give dates as yyyy-mm-dd") from None
    if not all(_FIRST_DAY <= day <= _LAST_DAY for day in (start, end)):
        raise web.HTTPBadRequest(text="choose dates between 2000 and 2100")
    if start > end:
        start, end = end, start
    return start, end


async def _report(request: web.Request) -> tuple[date, date, reports.Report]:
    root = host(request)
    start, end = _period(request)
    tz = root.policy.tz
    async with root.sessions() as session:
        found = await reports.report(
            session,
            datetime.combine(start, time(0), tzinfo=tz),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz),
        )
    return start, end, found


async def reports_page(request: web.Request) -> web.Response:
    start, end, found = await _report(request)
    language = login(request).language
    t, shown = translator(language), case_pages.wording(language, host(request).policy.tz)
    said, number = shown["words"], shown["fmt"].number
    funnel = reports.bar_chart(
        [(t(label), found.funnel[key]) for key, label in reports.FUNNEL_STEPS], number=number
    )
    return page(
        request,
        "wp_reports.html",
        start=start,
        end=end,
        report=found,
        **shown,
        funnel_chart=funnel,
        rates_chart=reports.bar_chart(
            [
                (
                    f"{said.template(rate.template)} · {said.channel(rate.channel)}",
                    round(rate.rate * 100),
                )
                for rate in found.rates
            ],
            top=100,  # a share: half the width is half the reminders
            unit="%",
            number=number,
        ),
    )


async def reports_api(request: web.Request) -> web.Response:
    _, _, found = await _report(request)
    return web.json_response(found.as_json())
