"""What the workplace's handlers share: who is logged in, the page in their language, the
team's cases, and a refusal carried back to the page it came from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from aiohttp import web
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from storage.models import Case, Tenant
from workplace import accounts, actions, sessions
from workplace.host import host
from workplace.labels import code_labels, translator
from workplace.rendering import render_page

SIGNER = web.AppKey("session_signer", sessions.SessionSigner)
PROBLEMS = web.AppKey("problem_signer", URLSafeSerializer)
LOGIN = web.RequestKey("login", sessions.Login)
TOKEN = web.RequestKey("session_token", str)


def login(request: web.Request) -> sessions.Login:
    return request[LOGIN]


def page(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """A page in the consultant's language (Dutch before anyone logged in)."""
    found = request.get(LOGIN)
    language = found.language if found is not None else "nl"
    root = host(request)
    return render_page(
        name,
        status=status,
        t=translator(language),
        label=code_labels(language),
        lang=language,
        login=found,
        tz=root.policy.tz,
        now=root.clock.now(),
        **context,
    )


def case_id(request: web.Request) -> int:
    return int(request.match_info["case_id"])


def version(form: Any) -> int | None:
    text = str(form.get("version", ""))
    return int(text) if text.isdigit() else None


def scope(request: web.Request) -> tuple[str, ...] | None:
    """The municipalities whose cases the user sees; None: all (coordinators)."""
    user = login(request).user
    if user.role == accounts.Role.COORDINATOR:
        return None
    return host(request).policy.team_municipalities(user.team)


async def allowed(request: web.Request, case: int) -> None:
    """A consultant in a team opens only the cases of its municipalities."""
    municipalities = scope(request)
    if municipalities is None:
        return
    async with host(request).sessions() as session:
        municipality = await session.scalar(
            select(Tenant.municipality)
            .join(Case, Case.tenant_id == Tenant.id)
            .where(Case.id == case)
        )
    if (municipality or "").lower() not in municipalities:
        raise web.HTTPForbidden(text="This case belongs to another team.")


def coordinator(request: web.Request) -> None:
    if login(request).user.role != accounts.Role.COORDINATOR:
        raise web.HTTPForbidden(text="Only coordinators manage users.")


def with_problem(request: web.Request, path: str, problem: object) -> web.HTTPSeeOther:
    """Back to ``path``, saying what went wrong. The text travels signed: a page shows only
    what we said, never text someone put in a link (?problem=Call 0900-…)."""
    return web.HTTPSeeOther(f"{path}?problem={quote(request.app[PROBLEMS].dumps(str(problem)))}")


def problem(request: web.Request) -> str | None:
    signed = request.query.get("problem")
    if not signed:
        return None
    try:
        return str(request.app[PROBLEMS].loads(signed))
    except BadSignature:
        return None


@contextmanager
def problems_shown_on(request: web.Request, case: int) -> Iterator[None]:
    """An action that cannot be done goes back to the case page, saying why."""
    try:
        yield
    except actions.ActionError as refused:
        raise with_problem(request, f"/cases/{case}", refused) from None
