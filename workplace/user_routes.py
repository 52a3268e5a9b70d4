"""Users, for coordinators: the list, adding one, and changing one (role, team, password,
on or off, unlock)."""

from __future__ import annotations

import logging
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select

from storage.models import User
from workplace import accounts, login_throttle
from workplace.host import host
from workplace.request_helpers import coordinator, login, page, problem, with_problem

log = logging.getLogger(__name__)


async def users_page(request: web.Request, shown: tuple[str, str] | None = None) -> web.Response:
    coordinator(request)
    root = host(request)
    async with root.sessions() as session:
        users = list(await session.scalars(select(User).order_by(User.username)))
        held_names = await login_throttle.held_names(session, root.wall_clock.now())
    return page(
        request,
        "wp_users.html",
        users=users,
        # Held off from at least one address; "unlock" opens the name from everywhere.
        held={user.id for user in users if login_throttle.name_key(user.username) in held_names},
        teams=sorted(root.policy.teams),
        problem=problem(request),
        notice=request.query.get("notice"),
        shown=shown,
    )


async def users_add(request: web.Request) -> web.Response:
    coordinator(request)
    root = host(request)
    form = await request.post()
    role_text = str(form.get("role", "consultant"))
    try:
        role = accounts.Role(role_text)
        async with root.sessions() as session, session.begin():
            await accounts.add_user(
                session,
                str(form.get("username", "")),
                str(form.get("password", "")),
                role=role,
                now=root.wall_clock.now(),
                display_name=str(form.get("display_name", "")) or None,
                team=str(form.get("team", "")) or None,
                known_teams=root.policy.teams.keys(),
            )
    except (ValueError, accounts.AccountError) as refused:
        raise with_problem(request, "/users", refused) from None
    raise web.HTTPSeeOther("/users")


async def users_change(request: web.Request) -> web.Response:
    coordinator(request)
    root = host(request)
    form = await request.post()
    user_id, change = int(request.match_info["user_id"]), str(form.get("change", ""))
    typed = str(form.get("password", ""))
    try:
        async with root.sessions() as session, session.begin():
            if change == "password":  # typed by the coordinator, or made here when left empty
                changed, password = await accounts.reset_password(session, user_id, typed or None)
            else:
                changed = await accounts.change_user(
                    session,
                    user_id,
                    change,
                    login(request).user,
                    team=str(form.get("team", "")),
                    known_teams=root.policy.teams.keys(),
                )
            log.info("user %s: %s", changed.id, change)
    except accounts.AccountError as refused:
        raise with_problem(request, "/users", refused) from None
    if change == "password" and not typed:  # shown on this answer only: no link, no log
        return await users_page(request, shown=(changed.username, password))
    raise web.HTTPSeeOther(f"/users?notice={quote(change)}")
