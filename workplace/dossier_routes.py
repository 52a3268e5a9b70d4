"""Handing a case over to a partner, the partner's feedback, the dossier as handed over and
the eviction-prevention record."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from workplace import actions, case_pages
from workplace.case_routes import load_view
from workplace.dossier import build_dossier, contact_attempts
from workplace.host import host
from workplace.queries import CaseView, case_view
from workplace.request_helpers import case_id, login, page, problems_shown_on, version


def _dossier(request: web.Request, view: CaseView) -> dict[str, Any]:
    root = host(request)
    return build_dossier(
        case=view.case,
        tenant=view.tenant,
        points=view.points,
        snapshots=view.snapshots,
        plans=view.plans,
        messages=view.messages,
        events=view.events,
        corporation=root.letterhead.corporation,
        tz=root.policy.tz,
        now=root.clock.now(),
    )


async def handover(request: web.Request) -> web.Response:
    root = host(request)
    chosen = case_id(request)
    form = await request.post()
    user = login(request).user
    now = root.clock.now()
    with problems_shown_on(request, chosen):
        if form.get("consent") != "yes":
            raise actions.ActionError("a handover needs the tenant's consent")
        async with root.sessions() as session, session.begin():
            case = await actions.load_case(session, chosen, version(form))
            partners = root.policy.partners.for_municipality(case.tenant.municipality)
            index = str(form.get("partner", ""))
            if not index.isdigit() or int(index) >= len(partners):
                raise actions.ActionError("choose a partner")
            view = await case_view(session, chosen)
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
    raise web.HTTPSeeOther(f"/cases/{chosen}/dossier")


async def feedback(request: web.Request) -> web.Response:
    root = host(request)
    chosen = case_id(request)
    form = await request.post()
    with problems_shown_on(request, chosen):
        async with root.sessions() as session, session.begin():
            case = await actions.load_case(session, chosen)
            await actions.partner_feedback(
                session,
                case,
                login(request).user,
                int(request.match_info["handover_id"]),
                feedback=str(form.get("feedback", "")),
                note=str(form.get("note", "")),
                now=root.clock.now(),
            )
    raise web.HTTPSeeOther(f"/cases/{chosen}?notice=feedback")


async def dossier_page(request: web.Request) -> web.Response:
    """The dossier as handed over (the latest handover), or as it stands when none was."""
    view = await load_view(request)
    handed = view.handovers[-1] if view.handovers else None
    dossier = handed.dossier if handed else _dossier(request, view)
    if request.path.startswith("/api/") or request.query.get("format") == "json":
        return web.json_response(dossier)
    return page(
        request,
        "wp_dossier.html",
        dossier=dossier,
        handover=handed,
        case_id=view.case.id,
        **case_pages.dossier_page(dossier, login(request).language, host(request).policy.tz),
    )


async def record_page(request: web.Request) -> web.Response:
    """The eviction-prevention record: everything done to reach and help the tenant."""
    root = host(request)
    view = await load_view(request)
    attempts = contact_attempts(view.messages, view.events, root.policy.tz)
    return page(
        request,
        "wp_record.html",
        view=view,
        attempts=attempts,
        corporation=root.letterhead.corporation,
        **case_pages.record_page(view, login(request).language, root.policy.tz),
    )
