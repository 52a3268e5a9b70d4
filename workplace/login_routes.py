"""Logging in and out, and the language of the pages."""

from __future__ import annotations

import hmac
import logging
import secrets

from aiohttp import web

from workplace import accounts, login_throttle, sessions
from workplace.client_address import client_address
from workplace.host import host
from workplace.request_helpers import SIGNER, TOKEN, login, page

log = logging.getLogger(__name__)
_LOGIN_CSRF = "arrears_login_csrf"


def _secure(request: web.Request) -> bool:
    base = host(request).settings.public_base_url or ""
    return base.startswith("https://")


def safe_next(target: str | None) -> str:
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


def _login_form(
    request: web.Request, target: str | None, status: int = 200, **context: str
) -> web.Response:
    """The login page with a fresh double-submit CSRF token in its own cookie."""
    csrf = secrets.token_urlsafe(24)
    response = page(
        request, "wp_login.html", status=status, csrf=csrf, next=safe_next(target), **context
    )
    response.set_cookie(
        _LOGIN_CSRF, csrf, httponly=True, samesite="Strict", secure=_secure(request), path="/login"
    )
    return response


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, request.query.get("next"))


async def login_submit(request: web.Request) -> web.Response:
    root = host(request)
    form = await request.post()
    expected = request.cookies.get(_LOGIN_CSRF, "")
    given = str(form.get("csrf", ""))
    if not expected or not hmac.compare_digest(given, expected):
        raise web.HTTPForbidden(text="This form has expired. Go back, reload and try again.")
    settings = root.settings
    now = root.wall_clock.now()  # holds and session expiry are in people's time
    try:
        result, user = await accounts.authenticate(
            root.sessions,
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
        async with root.sessions() as session, session.begin():
            token, _ = await sessions.start(session, user, now=now, hours=settings.session_hours)
    if token is None:
        log.info("login refused (%s)", result.value)
        # One status and one text for a wrong name, a wrong password and a hold alike: the
        # answer must not tell which names exist (a hold counts names as typed, so it says
        # nothing either, but one answer leaves nothing to compare).
        return _login_form(request, str(form.get("next", "")), status=401, error="refused")
    response = web.HTTPSeeOther(safe_next(str(form.get("next", ""))))
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
    async with host(request).sessions() as session, session.begin():
        await sessions.end(session, request[TOKEN])
    response = web.HTTPSeeOther("/login")
    response.del_cookie(sessions.COOKIE, path="/")
    raise response


async def language(request: web.Request) -> web.Response:
    form = await request.post()
    chosen = "en" if form.get("language") == "en" else "nl"
    async with host(request).sessions() as session, session.begin():
        await sessions.set_language(session, login(request).session_id, chosen)
    raise web.HTTPSeeOther(safe_next(str(form.get("back", ""))))
