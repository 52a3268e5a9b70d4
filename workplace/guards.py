"""The workplace's middlewares: the login and CSRF guard, the team's cases, and the
headers that keep its pages out of frames and caches."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from workplace import sessions
from workplace.host import host
from workplace.request_helpers import LOGIN, SIGNER, TOKEN, allowed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
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


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every path here but /login needs a session; every POST needs the session's CSRF
    token (a form field, or the X-CSRF-Token header for /api). Pages with personal data are
    not cached."""
    if not request.path.startswith(_PROTECTED):
        return await handler(request)
    root = host(request)
    signed = request.cookies.get(sessions.COOKIE, "")
    token = request.app[SIGNER].unsign(signed) if signed else None
    login: sessions.Login | None = None
    if token is not None:
        async with root.sessions() as session:
            # Logins run on people's time, also where the tenants' world runs fast (demo).
            login = await sessions.find(session, token, root.wall_clock.now())
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
async def team_scope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every path about one case checks the consultant's team before anything else."""
    case_id = request.match_info.get("case_id")
    if case_id is not None and LOGIN in request:
        await allowed(request, int(case_id))
    return await handler(request)


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
