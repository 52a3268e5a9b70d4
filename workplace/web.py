"""The consultants' pages and their JSON twins, behind a login.

Every path here but /login needs a session; every POST needs the session's CSRF token (a
form field, or the X-CSRF-Token header for /api). Pages with personal data are not cached.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from bot.web import RUNTIME, render_page
from storage.models import Case, SignalBatch, Tenant, User
from workplace import (
    accounts,
    actions,
    case_pages,
    login_throttle,
    replies,
    reports,
    sessions,
    signals,
)
from workplace.client_address import client_address
from workplace.dossier import build_dossier, contact_attempts
from workplace.labels import code_labels, translator
from workplace.queries import (
    CaseView,
    QueueFilter,
    case_view,
    queue,
    unmatched,
)

log = logging.getLogger(__name__)
SIGNER = web.AppKey("session_signer", sessions.SessionSigner)
PROBLEMS = web.AppKey("problem_signer", URLSafeSerializer)
LOGIN = web.RequestKey("login", sessions.Login)
TOKEN = web.RequestKey("session_token", str)
_PROTECTED = (
    "/queue",
    "/cases",
    "/reports",
    "/signals",
    "/users",
    "/api",
    "/logout",
    "/language",
)
_LOGIN_CSRF = "arrears_login_csrf"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _login(request: web.Request) -> sessions.Login:
    return request[LOGIN]


def _secure(request: web.Request) -> bool:
    base = request.app[RUNTIME].settings.public_base_url or ""
    return base.startswith("https://")


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(_PROTECTED):
        return await handler(request)
    runtime = request.app[RUNTIME]
    signed = request.cookies.get(sessions.COOKIE, "")
    token = request.app[SIGNER].unsign(signed) if signed else None
    login: sessions.Login | None = None
    if token is not None:
        async with runtime.sessions() as session:
            # Logins run on people's time, also where the tenants' world runs fast (demo).
            login = await sessions.find(session, token, runtime.wall_clock.now())
    if login is None or token is None:
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(
                text='{"error": "log in first"}', content_type="application/json"
            )
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs)}")
    request[LOGIN] = login
    request[TOKEN] = token
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        given = str(form.get("csrf") or request.headers.get("X-CSRF-Token") or "")
        if not given or not hmac.compare_digest(given, login.csrf_token):
            raise web.HTTPForbidden(text="This form has expired. Go back, reload and try again.")
    response = await handler(request)
    response.headers["Cache-Control"] = "no-store"
    return response


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'",
    )
    return response


def _page(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    login = request.get(LOGIN)
    language = login.language if login is not None else "nl"
    runtime = request.app[RUNTIME]
    return render_page(
        name,
        status=status,
        t=translator(language),
        label=code_labels(language),
        lang=language,
        login=login,
        tz=runtime.policy.tz,
        now=runtime.clock.now(),
        **context,
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site. "//host" and "/\\host" would leave it, and so would
    "/<tab>/host": browsers drop tabs and line breaks from a URL before reading it, so any
    control character, space or backslash sends the user to the queue instead."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or any(char == "\\" or ord(char) <= 0x20 or ord(char) == 0x7F for char in target)
    ):
        return "/queue"
    return target


async def login_page(request: web.Request) -> web.Response:
    csrf = secrets.token_urlsafe(24)
    response = _page(
        request, "wp_login.html", csrf=csrf, next=_safe_next(request.query.get("next"))
    )
    response.set_cookie(
        _LOGIN_CSRF, csrf, httponly=True, samesite="Strict", secure=_secure(request), path="/login"
    )
    return response


async def login_submit(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    form = await request.post()
    expected = request.cookies.get(_LOGIN_CSRF, "")
    given = str(form.get("csrf", ""))
    if not expected or not hmac.compare_digest(given, expected):
        raise web.HTTPForbidden(text="This form has expired. Go back, reload and try again.")
    settings = runtime.settings
    now = runtime.wall_clock.now()  # holds and session expiry are in people's time
    try:
        result, user = await accounts.authenticate(
            runtime.sessions,
            str(form.get("username", "")),
            str(form.get("password", "")),
            client=login_throttle.client_key(client_address(request, settings.trusted_networks())),
            now=now,
            limits=login_throttle.limits(
                per_name=settings.login_max_failures,
                per_client=settings.login_client_max_failures,
                window_minutes=settings.login_window_minutes,
                hold_minutes=settings.lockout_minutes,
            ),
        )
    except accounts.LoginBusy:
        raise web.HTTPServiceUnavailable(
            text="Many people are logging in at once. Try again in a minute.",
            headers={"Retry-After": "30"},
        ) from None

    token = None
    if user is not None:
        async with runtime.sessions() as session, session.begin():
            token, _ = await sessions.start(session, user, now=now, hours=settings.session_hours)
    if token is None:
        log.info("login refused (%s)", result.value)
        csrf = secrets.token_urlsafe(24)
        # One status and one text for a wrong name, a wrong password and a hold alike: the
        # answer must not tell which names exist (a hold counts names as typed, so it says
        # nothing either, but one answer leaves nothing to compare).
        response = _page(
            request,
            "wp_login.html",
            status=401,
            csrf=csrf,
            next=_safe_next(str(form.get("next", ""))),
            error="refused",
        )
        response.set_cookie(
            _LOGIN_CSRF,
            csrf,
            httponly=True,
            samesite="Strict",
            secure=_secure(request),
            path="/login",
        )
        return response
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    response.set_cookie(
        sessions.COOKIE,
        request.app[SIGNER].sign(token),
        httponly=True,
        # Lax, not Strict: a link to a case from mail or chat opens it logged in. Every
        # POST carries the CSRF token, and no GET changes anything.
        samesite="Lax",
        secure=_secure(request),
        max_age=int(settings.session_hours * 3600),
        path="/",
    )
    response.del_cookie(_LOGIN_CSRF, path="/login")
    raise response


async def logout(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        await sessions.end(session, request[TOKEN])
    response = web.HTTPSeeOther("/login")
    response.del_cookie(sessions.COOKIE, path="/")
    raise response


async def language(request: web.Request) -> web.Response:
    form = await request.post()
    chosen = "en" if form.get("language") == "en" else "nl"
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        await sessions.set_language(session, _login(request).session_id, chosen)
    raise web.HTTPSeeOther(_safe_next(str(form.get("back", ""))))


def _filter(request: web.Request) -> QueueFilter:
    query = request.query
    who = query.get("who", "all")
    return QueueFilter(
        reason=query.get("reason") or None,
        who=who if who in ("mine", "unassigned", "all") else "all",
        channel=query.get("channel") or None,
        municipality=query.get("municipality") or None,
    )


def _scope(request: web.Request) -> tuple[str, ...] | None:
    user = _login(request).user
    if user.role == accounts.Role.COORDINATOR:
        return None
    return request.app[RUNTIME].policy.team_municipalities(user.team)


async def _allowed(request: web.Request, case_id: int) -> None:
    """A consultant in a team opens only the cases of its municipalities."""
    scope = _scope(request)
    if scope is None:
        return
    async with request.app[RUNTIME].sessions() as session:
        municipality = await session.scalar(
            select(Tenant.municipality)
            .join(Case, Case.tenant_id == Tenant.id)
            .where(Case.id == case_id)
        )
    if (municipality or "").lower() not in scope:
        raise web.HTTPForbidden(text="This case belongs to another team.")


async def _queue_rows(request: web.Request) -> tuple[QueueFilter, list[Any]]:
    runtime = request.app[RUNTIME]
    chosen = _filter(request)
    async with runtime.sessions() as session:
        rows = await queue(
            session,
            _login(request).user,
            chosen,
            now=runtime.clock.now(),
            target_hours=runtime.policy.escalation.response_target_hours,
            scope=_scope(request),
        )
    return chosen, rows


async def queue_page(request: web.Request) -> web.Response:
    chosen, rows = await _queue_rows(request)
    runtime = request.app[RUNTIME]
    strangers: list[Any] = []
    if _scope(request) is None:  # not tied to a municipality: for those who see all
        async with runtime.sessions() as session:
            strangers = await unmatched(session, runtime.clock.now() - timedelta(days=30))
    return _page(
        request,
        "wp_queue.html",
        rows=rows,
        chosen=chosen,
        target=runtime.policy.escalation.response_target_hours,
        reasons=sorted(
            {row.reason for row in rows} | ({chosen.reason} if chosen.reason else set())
        ),
        channels=["whatsapp", "sms", "telegram", "email"],
        strangers=strangers,
        **case_pages.wording(_login(request).language, runtime.policy.tz),
    )


async def queue_api(request: web.Request) -> web.Response:
    _, rows = await _queue_rows(request)
    return web.json_response({"cases": [row.as_json() for row in rows]})


def _case_id(request: web.Request) -> int:
    return int(request.match_info["case_id"])


def _with_problem(request: web.Request, path: str, problem: object) -> web.HTTPSeeOther:
    """Back to ``path``, saying what went wrong. The text travels signed: a page shows only
    what we said, never text someone put in a link (?problem=Call 0900-…)."""
    return web.HTTPSeeOther(f"{path}?problem={quote(request.app[PROBLEMS].dumps(str(problem)))}")


def _problem(request: web.Request) -> str | None:
    signed = request.query.get("problem")
    if not signed:
        return None
    try:
        return str(request.app[PROBLEMS].loads(signed))
    except BadSignature:
        return None


@contextmanager
def _problems_shown_on(request: web.Request, case_id: int) -> Iterator[None]:
    """An action that cannot be done goes back to the case page, saying why."""
    try:
        yield
    except actions.ActionError as problem:
        raise _with_problem(request, f"/cases/{case_id}", problem) from None


@web.middleware
async def team_scope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every path about one case checks the consultant's team before anything else."""
    case_id = request.match_info.get("case_id")
    if case_id is not None and LOGIN in request:
        await _allowed(request, int(case_id))
    return await handler(request)


async def _view(request: web.Request) -> CaseView:
    async with request.app[RUNTIME].sessions() as session:
        view = await case_view(session, _case_id(request))
    if view is None:
        if request.path.startswith("/api/"):
            raise web.HTTPNotFound(
                text='{"error": "no such case"}', content_type="application/json"
            )
        raise web.HTTPNotFound(text="no such case")
    return view


async def case_page(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    view = await _view(request)
    async with runtime.sessions() as session:
        routes = await replies.reply_choices(
            session, view.case, now=runtime.clock.now(), available=runtime.channels.keys()
        )
    return _page(
        request,
        "wp_case.html",
        view=view,
        **case_pages.case_page(view, _login(request).language, runtime.policy.tz, routes),
        modes=[mode.value for mode in actions.ContactMode],
        resolutions=actions.RESOLUTIONS,
        partners=runtime.policy.partners.for_municipality(view.tenant.municipality),
        feedback_options=actions.PARTNER_FEEDBACK,
        notice=request.query.get("notice"),
        problem=_problem(request),
    )


async def case_api(request: web.Request) -> web.Response:
    return web.json_response((await _view(request)).as_json())


async def claim(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    case_id = _case_id(request)
    async with runtime.sessions() as session, session.begin():
        won = await actions.claim(session, case_id, _login(request).user, runtime.clock.now())
    if not won:
        raise _with_problem(request, f"/cases/{case_id}", "taken")
    raise web.HTTPSeeOther(f"/cases/{case_id}?notice=claimed")


async def release(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    case_id = _case_id(request)
    async with runtime.sessions() as session, session.begin():
        await actions.release(session, case_id, _login(request).user, runtime.clock.now())
    raise web.HTTPSeeOther("/queue")


def _local_datetime(request: web.Request, day: str, hour: str = "") -> datetime:
    """A date (and hour) typed in the corporation's time zone, as an aware moment."""
    tz = request.app[RUNTIME].policy.tz
    try:
        chosen_day = date.fromisoformat(day)
        chosen_time = time.fromisoformat(hour) if hour else time(9, 0)
    except ValueError as error:
        raise actions.ActionError("give a date as yyyy-mm-dd") from error
    return datetime.combine(chosen_day, chosen_time, tzinfo=tz)


async def case_action(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    case_id = _case_id(request)
    action = request.match_info["action"]
    form = await request.post()
    user = _login(request).user
    now = runtime.clock.now()
    version = _version(form)
    with _problems_shown_on(request, case_id):
        async with runtime.sessions() as session, session.begin():
            case = await actions.load_case(session, case_id, version)
            if action == "reply":
                point = str(form.get("to", ""))
                await replies.reply(
                    session,
                    case,
                    user,
                    str(form.get("text", "")),
                    now=now,
                    letterhead=runtime.letterhead,
                    available=runtime.channels.keys(),
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
                    local_hour=at.astimezone(runtime.policy.tz).hour,
                    now=now,
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
                    letterhead=runtime.letterhead,
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
        await runtime.send_soon()  # the tenant gets it now, not at the next dispatch run
    raise web.HTTPSeeOther(f"/cases/{case_id}?notice={action}")


def _dossier(request: web.Request, view: CaseView) -> dict[str, Any]:
    runtime = request.app[RUNTIME]
    return build_dossier(
        case=view.case,
        tenant=view.tenant,
        points=view.points,
        snapshots=view.snapshots,
        plans=view.plans,
        messages=view.messages,
        events=view.events,
        corporation=runtime.letterhead.corporation,
        tz=runtime.policy.tz,
        now=runtime.clock.now(),
    )


async def handover(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    case_id = _case_id(request)
    form = await request.post()
    user = _login(request).user
    now = runtime.clock.now()
    with _problems_shown_on(request, case_id):
        if form.get("consent") != "yes":
            raise actions.ActionError("a handover needs the tenant's consent")
        async with runtime.sessions() as session, session.begin():
            case = await actions.load_case(session, case_id, _version(form))
            partners = runtime.policy.partners.for_municipality(case.tenant.municipality)
            index = str(form.get("partner", ""))
            if not index.isdigit() or int(index) >= len(partners):
                raise actions.ActionError("choose a partner")
            view = await case_view(session, case_id)
            assert view is not None  # the case was just loaded
            await actions.hand_over(
                session,
                case,
                user,
                partner=partners[int(index)],
                consent_how=str(form.get("consent_how", "")),
                dossier=_dossier(request, view),
                now=now,
            )
    raise web.HTTPSeeOther(f"/cases/{case_id}/dossier")


async def feedback(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    case_id = _case_id(request)
    form = await request.post()
    with _problems_shown_on(request, case_id):
        async with runtime.sessions() as session, session.begin():
            case = await actions.load_case(session, case_id)
            await actions.partner_feedback(
                session,
                case,
                _login(request).user,
                int(request.match_info["handover_id"]),
                feedback=str(form.get("feedback", "")),
                note=str(form.get("note", "")),
                now=runtime.clock.now(),
            )
    raise web.HTTPSeeOther(f"/cases/{case_id}?notice=feedback")


async def dossier_page(request: web.Request) -> web.Response:
    """The dossier as handed over (the latest handover), or as it stands when none was."""
    view = await _view(request)
    handed = view.handovers[-1] if view.handovers else None
    dossier = handed.dossier if handed else _dossier(request, view)
    if request.path.startswith("/api/") or request.query.get("format") == "json":
        return web.json_response(dossier)
    return _page(
        request,
        "wp_dossier.html",
        dossier=dossier,
        handover=handed,
        case_id=view.case.id,
        **case_pages.dossier_page(
            dossier, _login(request).language, request.app[RUNTIME].policy.tz
        ),
    )


async def record_page(request: web.Request) -> web.Response:
    """The eviction-prevention record: everything done to reach and help the tenant."""
    runtime = request.app[RUNTIME]
    view = await _view(request)
    attempts = contact_attempts(view.messages, view.events, runtime.policy.tz)
    return _page(
        request,
        "wp_record.html",
        view=view,
        attempts=attempts,
        corporation=runtime.letterhead.corporation,
        **case_pages.record_page(view, _login(request).language, runtime.policy.tz),
    )


async def signals_page(request: web.Request) -> web.Response:
    _coordinator(request)
    runtime = request.app[RUNTIME]
    today = runtime.clock.now().astimezone(runtime.policy.tz).date()
    async with runtime.sessions() as session:
        found = await signals.candidates(session, runtime.policy, today)
        batches = list(
            await session.scalars(select(SignalBatch).order_by(SignalBatch.id.desc()).limit(50))
        )
    language, rules = _login(request).language, runtime.policy.signal
    t = translator(language)
    return _page(
        request,
        "wp_signals.html",
        ready=[c for c in found if c.ready],
        waiting=[c for c in found if not c.ready],
        batches=batches,
        problem=_problem(request),
        criteria=signals.criteria(rules, t),
        why=lambda candidate: signals.reasons(candidate, rules, t, language),
        **case_pages.wording(language, runtime.policy.tz),
    )


async def signals_export(request: web.Request) -> web.Response:
    _coordinator(request)
    runtime = request.app[RUNTIME]
    form = await request.post()
    chosen = [int(str(v)) for v in form.getall("case", []) if str(v).isdigit()]
    try:
        async with runtime.sessions() as session, session.begin():
            batch = await signals.export(
                session, runtime.policy, chosen, _login(request).user, runtime.clock.now()
            )
    except ValueError as problem:
        raise _with_problem(request, "/signals", problem) from None
    raise web.HTTPSeeOther(f"/signals?batch={batch.id}")


async def signals_batch(request: web.Request) -> web.Response:
    _coordinator(request)
    runtime = request.app[RUNTIME]
    batch_id = int(request.match_info["batch_id"])
    async with runtime.sessions() as session:
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


# Reports count days within the period; a period beyond these is a typo, not a question.
_FIRST_DAY, _LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _period(request: web.Request) -> tuple[date, date]:
    """The chosen period, inclusive dates; by default the last 30 days of the tenants' world
    (the simulated month in the demo, whatever the date on the wall)."""
    runtime = request.app[RUNTIME]
    today = runtime.clock.now().astimezone(runtime.policy.tz).date()
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
    runtime = request.app[RUNTIME]
    start, end = _period(request)
    tz = runtime.policy.tz
    async with runtime.sessions() as session:
        found = await reports.report(
            session,
            datetime.combine(start, time(0), tzinfo=tz),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz),
        )
    return start, end, found


async def reports_page(request: web.Request) -> web.Response:
    start, end, found = await _report(request)
    language = _login(request).language
    t, shown = translator(language), case_pages.wording(language, request.app[RUNTIME].policy.tz)
    said, number = shown["words"], shown["fmt"].number
    funnel = reports.bar_chart(
        [(t(label), found.funnel[key]) for key, label in reports.FUNNEL_STEPS], number=number
    )
    return _page(
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


def _version(form: Any) -> int | None:
    text = str(form.get("version", ""))
    return int(text) if text.isdigit() else None


def _coordinator(request: web.Request) -> None:
    if _login(request).user.role != accounts.Role.COORDINATOR:
        raise web.HTTPForbidden(text="Only coordinators manage users.")


async def users_page(request: web.Request, shown: tuple[str, str] | None = None) -> web.Response:
    _coordinator(request)
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        users = list(await session.scalars(select(User).order_by(User.username)))
        held_names = await login_throttle.held_names(session, runtime.wall_clock.now())
    return _page(
        request,
        "wp_users.html",
        users=users,
        # Held off from at least one address; "unlock" opens the name from everywhere.
        held={user.id for user in users if login_throttle.name_key(user.username) in held_names},
        teams=sorted(runtime.policy.teams),
        problem=_problem(request),
        notice=request.query.get("notice"),
        shown=shown,
    )


async def users_add(request: web.Request) -> web.Response:
    _coordinator(request)
    runtime = request.app[RUNTIME]
    form = await request.post()
    role_text = str(form.get("role", "consultant"))
    try:
        role = accounts.Role(role_text)
        async with runtime.sessions() as session, session.begin():
            await accounts.add_user(
                session,
                str(form.get("username", "")),
                str(form.get("password", "")),
                role=role,
                now=runtime.wall_clock.now(),
                display_name=str(form.get("display_name", "")) or None,
                team=str(form.get("team", "")) or None,
                known_teams=runtime.policy.teams.keys(),
            )
    except (ValueError, accounts.AccountError) as problem:
        raise _with_problem(request, "/users", problem) from None
    raise web.HTTPSeeOther("/users")


async def users_change(request: web.Request) -> web.Response:
    _coordinator(request)
    runtime = request.app[RUNTIME]
    form = await request.post()
    user_id, change = int(request.match_info["user_id"]), str(form.get("change", ""))
    typed = str(form.get("password", ""))
    try:
        async with runtime.sessions() as session, session.begin():
            if change == "password":  # typed by the coordinator, or made here when left empty
                changed, password = await accounts.reset_password(session, user_id, typed or None)
            else:
                changed = await accounts.change_user(
                    session,
                    user_id,
                    change,
                    _login(request).user,
                    team=str(form.get("team", "")),
                    known_teams=runtime.policy.teams.keys(),
                )
            log.info("user %s: %s", changed.id, change)
    except accounts.AccountError as problem:
        raise _with_problem(request, "/users", problem) from None
    if change == "password" and not typed:  # shown on this answer only: no link, no log
        return await users_page(request, shown=(changed.username, password))
    raise web.HTTPSeeOther(f"/users?notice={quote(change)}")


def add_workplace_routes(app: web.Application, secret: str) -> None:
    app[SIGNER] = sessions.SessionSigner(secret)
    app[PROBLEMS] = URLSafeSerializer(secret, salt="arrears-bot problem")
    app.middlewares.append(security_headers)
    app.middlewares.append(guard)
    app.middlewares.append(team_scope)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_post("/language", language)
    app.router.add_get("/queue", queue_page)
    app.router.add_get("/api/queue", queue_api)
    # Ids are 32-bit integers in PostgreSQL: nine digits always fit, so a longer one is a
    # 404 here rather than a database error.
    app.router.add_get("/cases/{case_id:[0-9]{1,9}}", case_page)
    app.router.add_get("/api/cases/{case_id:[0-9]{1,9}}", case_api)
    app.router.add_post("/cases/{case_id:[0-9]{1,9}}/claim", claim)
    app.router.add_post("/cases/{case_id:[0-9]{1,9}}/release", release)
    app.router.add_post(
        "/cases/{case_id:[0-9]{1,9}}/{action:reply|contact|plan|pause|resolve}", case_action
    )
    app.router.add_post("/cases/{case_id:[0-9]{1,9}}/handover", handover)
    app.router.add_post(
        "/cases/{case_id:[0-9]{1,9}}/handovers/{handover_id:[0-9]{1,9}}/feedback", feedback
    )
    app.router.add_get("/cases/{case_id:[0-9]{1,9}}/dossier", dossier_page)
    app.router.add_get("/api/cases/{case_id:[0-9]{1,9}}/dossier", dossier_page)
    app.router.add_get("/cases/{case_id:[0-9]{1,9}}/record", record_page)
    app.router.add_get("/signals", signals_page)
    app.router.add_post("/signals", signals_export)
    app.router.add_get("/signals/batches/{batch_id:[0-9]{1,9}}.{format:json|csv}", signals_batch)
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/api/reports", reports_api)
    app.router.add_get("/users", users_page)
    app.router.add_post("/users", users_add)
    app.router.add_post("/users/{user_id:[0-9]{1,9}}", users_change)
