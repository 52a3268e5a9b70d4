"""The consultants' pages and their JSON twins, behind a login.

Every path here but /login needs a session; every POST needs the session's CSRF token (a
form field, or the X-CSRF-Token header for /api). Pages with personal data are not cached.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.web import RUNTIME, render_page
from workplace import accounts, actions, sessions
from workplace.labels import translator
from workplace.queries import QueueFilter, balance_chart, case_view, queue

log = logging.getLogger(__name__)
SIGNER = web.AppKey("session_signer", sessions.SessionSigner)
LOGIN = web.RequestKey("login", sessions.Login)
TOKEN = web.RequestKey("session_token", str)
_PROTECTED = ("/queue", "/cases", "/reports", "/users", "/api", "/logout", "/language")
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
            login = await sessions.find(session, token, runtime.clock.now())
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
        lang=language,
        login=login,
        tz=runtime.policy.tz,
        now=runtime.clock.now(),
        **context,
    )


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/queue"


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
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        result, user = await accounts.authenticate(
            session,
            str(form.get("username", "")),
            str(form.get("password", "")),
            now=now,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.lockout_minutes,
        )
        token = None
        if user is not None:
            token, _ = await sessions.start(session, user, now=now, hours=settings.session_hours)
    if token is None:
        log.info("login refused (%s)", result.value)
        csrf = secrets.token_urlsafe(24)
        response = _page(
            request,
            "wp_login.html",
            status=429 if result is accounts.LoginResult.LOCKED else 401,
            csrf=csrf,
            next=_safe_next(str(form.get("next", ""))),
            error=result.value,
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
        samesite="Strict",
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
        )
    return chosen, rows


async def queue_page(request: web.Request) -> web.Response:
    chosen, rows = await _queue_rows(request)
    runtime = request.app[RUNTIME]
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
    )


async def queue_api(request: web.Request) -> web.Response:
    _, rows = await _queue_rows(request)
    return web.json_response({"cases": [row.as_json() for row in rows]})


def _case_id(request: web.Request) -> int:
    return int(request.match_info["case_id"])


async def case_page(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        view = await case_view(session, _case_id(request))
    if view is None:
        raise web.HTTPNotFound(text="no such case")
    return _page(
        request,
        "wp_case.html",
        view=view,
        chart=balance_chart(view.snapshots),
        modes=[mode.value for mode in actions.ContactMode],
        resolutions=actions.RESOLUTIONS,
        notice=request.query.get("notice"),
        problem=request.query.get("problem"),
    )


async def case_api(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        view = await case_view(session, _case_id(request))
    if view is None:
        raise web.HTTPNotFound(text='{"error": "no such case"}', content_type="application/json")
    return web.json_response(view.as_json())


async def claim(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    case_id = _case_id(request)
    async with runtime.sessions() as session, session.begin():
        won = await actions.claim(session, case_id, _login(request).user, runtime.clock.now())
    if not won:
        raise web.HTTPSeeOther(f"/cases/{case_id}?problem=taken")
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
    version_text = str(form.get("version", ""))
    version = int(version_text) if version_text.isdigit() else None
    try:
        async with runtime.sessions() as session, session.begin():
            case = await actions.load_case(session, case_id, version)
            if action == "reply":
                await actions.reply(
                    session,
                    case,
                    user,
                    str(form.get("text", "")),
                    now=now,
                    letterhead=runtime.letterhead,
                    available=runtime.channels.keys(),
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
    except actions.ActionError as problem:
        raise web.HTTPSeeOther(f"/cases/{case_id}?problem={quote(str(problem))}") from None
    if action == "reply":
        await runtime.dispatch()  # the tenant gets it now, not at the next dispatch run
    raise web.HTTPSeeOther(f"/cases/{case_id}?notice={action}")


def _coordinator(request: web.Request) -> None:
    if _login(request).user.role != accounts.Role.COORDINATOR:
        raise web.HTTPForbidden(text="Only coordinators manage users.")


async def users_page(request: web.Request) -> web.Response:
    _coordinator(request)
    from sqlalchemy import select

    from storage.models import User

    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        users = list(await session.scalars(select(User).order_by(User.username)))
    return _page(request, "wp_users.html", users=users, problem=request.query.get("problem"))


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
                now=runtime.clock.now(),
                display_name=str(form.get("display_name", "")) or None,
            )
    except (ValueError, accounts.AccountError) as problem:
        raise web.HTTPSeeOther(f"/users?problem={quote(str(problem))}") from None
    raise web.HTTPSeeOther("/users")


def add_workplace_routes(app: web.Application, secret: str) -> None:
    app[SIGNER] = sessions.SessionSigner(secret)
    app.middlewares.append(security_headers)
    app.middlewares.append(guard)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout)
    app.router.add_post("/language", language)
    app.router.add_get("/queue", queue_page)
    app.router.add_get("/api/queue", queue_api)
    app.router.add_get("/cases/{case_id:\\d+}", case_page)
    app.router.add_get("/api/cases/{case_id:\\d+}", case_api)
    app.router.add_post("/cases/{case_id:\\d+}/claim", claim)
    app.router.add_post("/cases/{case_id:\\d+}/release", release)
    app.router.add_post(
        "/cases/{case_id:\\d+}/{action:reply|contact|plan|pause|resolve}", case_action
    )
    app.router.add_get("/users", users_page)
    app.router.add_post("/users", users_add)
