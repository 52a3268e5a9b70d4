"""One case: its page and JSON twin, claiming it, and what a consultant does on it (reply,
log a contact, record an objection to the signal or its withdrawal, decide a plan, pause,
resolve)."""

from __future__ import annotations

from datetime import date, datetime, time

from aiohttp import web

from rules.early_signal import OBJECTION_WAYS
from workplace import actions, case_pages, objections, replies
from workplace.host import host
from workplace.queries import CaseView, case_view
from workplace.request_helpers import (
    case_id,
    login,
    page,
    problem,
    problems_shown_on,
    version,
    with_problem,
)


async def load_view(request: web.Request) -> CaseView:
    """The case in the path with everything its pages show; 404 when there is none."""
    async with host(request).sessions() as session:
        view = await case_view(session, case_id(request))
    if view is None:
        if request.path.startswith("/api/"):
            raise web.HTTPNotFound(
                text='{"error": "no such case"}', content_type="application/json"
            )
        raise web.HTTPNotFound(text="no such case")
    return view


async def case_page(request: web.Request) -> web.Response:
    root = host(request)
    view = await load_view(request)
    async with root.sessions() as session:
        routes = await replies.reply_choices(
            session, view.case, now=root.clock.now(), available=root.channels.keys()
        )
    return page(
        request,
        "wp_case.html",
        view=view,
        **case_pages.case_page(view, login(request).language, root.policy.tz, routes),
        modes=[mode.value for mode in actions.ContactMode],
        objection_ways=OBJECTION_WAYS,
        resolutions=actions.RESOLUTIONS,
        partners=root.policy.partners.for_municipality(view.tenant.municipality),
        feedback_options=actions.PARTNER_FEEDBACK,
        notice=request.query.get("notice"),
        problem=problem(request),
    )


async def case_api(request: web.Request) -> web.Response:
    return web.json_response((await load_view(request)).as_json())


async def claim(request: web.Request) -> web.Response:
    root = host(request)
    chosen = case_id(request)
    async with root.sessions() as session, session.begin():
        won = await actions.claim(session, chosen, login(request).user, root.clock.now())
    if not won:
        raise with_problem(request, f"/cases/{chosen}", "taken")
    raise web.HTTPSeeOther(f"/cases/{chosen}?notice=claimed")


async def release(request: web.Request) -> web.Response:
    root = host(request)
    async with root.sessions() as session, session.begin():
        await actions.release(session, case_id(request), login(request).user, root.clock.now())
    raise web.HTTPSeeOther("/queue")


def _local_datetime(request: web.Request, day: str, hour: str = "") -> datetime:
    """A date (and hour) typed in the corporation's time zone, as an aware moment."""
    tz = host(request).policy.tz
    try:
        chosen_day = date.fromisoformat(day)
        chosen_time = time.fromisoformat(hour) if hour else time(9, 0)
    except ValueError as error:
        raise actions.ActionError("give a date as yyyy-mm-dd") from error
    return datetime.combine(chosen_day, chosen_time, tzinfo=tz)


async def case_action(request: web.Request) -> web.Response:
    root = host(request)
    chosen = case_id(request)
    action = request.match_info["action"]
    form = await request.post()
    user = login(request).user
    now = root.clock.now()
    with problems_shown_on(request, chosen):
        async with root.sessions() as session, session.begin():
            case = await actions.load_case(session, chosen, version(form))
            if action == "reply":
                point = str(form.get("to", ""))
                await replies.reply(
                    session,
                    case,
                    user,
                    str(form.get("text", "")),
                    now=now,
                    letterhead=root.letterhead,
                    available=root.channels.keys(),
                    point_id=int(point) if point.isdigit() and len(point) < 19 else None,
                )
            elif action == "contact":
                at = (
                    _local_datetime(request, str(form.get("day", "")), str(form.get("hour", "")))
                    if form.get("day")
                    else now
                )
                mode_text = str(form.get("mode", ""))
                if mode_text not in {mode.value for mode in actions.ContactMode}:
                    raise actions.ActionError("choose how the contact was made")
                await actions.log_contact(
                    session,
                    case,
                    user,
                    mode=actions.ContactMode(mode_text),
                    reached=form.get("reached") == "yes",
                    outcome=str(form.get("outcome", "")),
                    at=at,
                    local_hour=at.astimezone(root.policy.tz).hour,
                    now=now,
                )
            elif action == "objection":
                await objections.record(
                    session,
                    case,
                    user,
                    kind=str(form.get("kind", "")),
                    how=str(form.get("how", "")),
                    day=str(form.get("day", "")),
                    hour=str(form.get("hour", "")),
                    note=str(form.get("note", "")),
                    now=now,
                    tz=root.policy.tz,
                )
            elif action == "plan":
                decision = str(form.get("decision", ""))
                if decision not in ("approve", "reject"):
                    raise actions.ActionError("approve or reject")
                await actions.decide_plan(
                    session,
                    case,
                    user,
                    int(str(form.get("plan_id", "0")) or 0),
                    approve=decision == "approve",
                    now=now,
                    letterhead=root.letterhead,
                    note=str(form.get("note", "")),
                )
            elif action == "pause":
                until = _local_datetime(request, str(form.get("until", "")))
                await actions.pause_until(
                    session, case, user, until, now, str(form.get("note", ""))
                )
            elif action == "resolve":
                await actions.resolve(
                    session, case, user, str(form.get("reason", "")), now, str(form.get("note", ""))
                )
            else:
                raise web.HTTPNotFound(text="no such action")
    if action == "reply":
        await root.send_soon()  # the tenant gets it now, not at the next dispatch run
    raise web.HTTPSeeOther(f"/cases/{chosen}?notice={action}")
