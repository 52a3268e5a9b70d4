"""The consultants' workplace through real HTTP on 127.0.0.1: login and its defences, the
queue, claiming, the case page and its actions, the JSON twins."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from messaging.routing import Reachable
from rules.clock import ManualClock
from storage.models import PaymentPlan, User
from tests.db_helpers import cases, events, messages
from tests.factories import HEADER, arrears_csv, row
from workplace import actions, replies
from workplace.accounts import AccountError, Role, add_user, set_password

Client = TestClient  # type: ignore[type-arg]
PASSWORD = "correct horse battery"


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def make_user(runtime: Runtime, name: str, role: Role = Role.CONSULTANT) -> User:
    async with runtime.sessions() as session, session.begin():
        return await add_user(
            session, name, PASSWORD, role=role, now=runtime.clock.now(), display_name=name.title()
        )


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} on the page"
    return found.group(1)


async def log_in(client: Client, name: str, password: str = PASSWORD) -> int:
    page = await (await client.get("/login")).text()
    response = await client.post(
        "/login",
        data={"username": name, "password": password, "csrf": hidden(page, "csrf")},
        allow_redirects=False,
    )
    return response.status


async def csrf_of(client: Client, path: str = "/queue") -> str:
    return hidden(await (await client.get(path)).text(), "csrf")


async def escalated_case(runtime: Runtime, text: str = "hulp") -> int:
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    await runtime.receive(
        InboundMessage("whatsapp", "+31612345678", text, f"wp-{text}", runtime.clock.now())
    )
    (case,) = await cases(runtime)
    assert case.status == "escalated"
    return case.id


PAGES = [
    "/queue",
    "/queue?who=mine",
    "/cases/1",
    "/cases/1/dossier",
    "/cases/1/record",
    "/reports",
    "/signals",
    "/users",
]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_without_a_session_goes_to_login(client: Client, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=")


async def test_the_api_without_a_session_is_refused(client: Client) -> None:
    for path in ("/api/queue", "/api/cases/1"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 401 and (await response.json())["error"]


async def test_login_sets_a_safe_cookie_and_logout_ends_the_session(
    client: Client, runtime: Runtime
) -> None:
    await make_user(runtime, "marieke")
    page = await (await client.get("/login?next=/queue")).text()
    response = await client.post(
        "/login",
        data={"username": "Marieke", "password": PASSWORD, "csrf": hidden(page, "csrf")},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/queue"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    queue = await client.get("/queue", allow_redirects=False)
    assert queue.status == 200 and queue.headers["Cache-Control"] == "no-store"
    assert queue.headers["X-Frame-Options"] == "DENY"
    stolen = client.session.cookie_jar.filter_cookies(client.make_url("/"))["arrears_session"]
    await client.post("/logout", data={"csrf": await csrf_of(client)}, allow_redirects=False)
    assert (await client.get("/queue", allow_redirects=False)).status == 303
    # The old cookie is worth nothing once the session has ended on the server.
    client.session.cookie_jar.clear()
    replayed = await client.get(
        "/queue", headers={"Cookie": f"arrears_session={stolen.value}"}, allow_redirects=False
    )
    assert replayed.status == 303


async def test_login_goes_back_only_to_our_own_pages(client: Client, runtime: Runtime) -> None:
    await make_user(runtime, "marieke")
    for target, landing in (
        ("/reports", "/reports"),
        ("//evil.example", "/queue"),
        ("https://evil.example/", "/queue"),
        ("/\\evil.example", "/queue"),
        ("/%09/evil.example", "/queue"),  # browsers drop the tab: "//evil.example"
        ("/%0d/evil.example", "/queue"),
        ("/%0a/evil.example", "/queue"),
        ("/%20/evil.example", "/queue"),
        ("/cases/1?tab=dossier", "/cases/1?tab=dossier"),
    ):
        page = await (await client.get(f"/login?next={target}")).text()
        response = await client.post(
            "/login",
            data={
                "username": "marieke",
                "password": PASSWORD,
                "csrf": hidden(page, "csrf"),
                "next": hidden(page, "next"),
            },
            allow_redirects=False,
        )
        assert response.headers["Location"] == landing


async def test_the_workplace_speaks_english_on_request(client: Client, runtime: Runtime) -> None:
    await escalated_case(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    dutch = await (await client.get("/queue")).text()
    assert "Wachtrij" in dutch and "Hulpvraag" in dutch
    switched = await client.post(
        "/language", data={"csrf": await csrf_of(client), "language": "en", "back": "/queue"}
    )
    page = await switched.text()
    assert "Queue" in page and "Log out" in page and "Wachtrij" not in page
    assert "Asks for help" in page and "Hulpvraag" not in page


async def test_a_forged_or_tampered_cookie_is_no_session(client: Client, runtime: Runtime) -> None:
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    jar = client.session.cookie_jar
    value = jar.filter_cookies(client.make_url("/"))["arrears_session"].value
    jar.clear()

    async def status_with(cookie: str) -> int:
        response = await client.get(
            "/queue", headers={"Cookie": f"arrears_session={cookie}"}, allow_redirects=False
        )
        return response.status

    assert await status_with(value) == 200  # the real one works
    token, _, signature = value.rpartition(".")
    assert await status_with(f"{token}.{signature[::-1]}") == 303
    assert await status_with("made-up.value") == 303


async def test_a_form_without_a_valid_csrf_token_is_refused(
    client: Client, runtime: Runtime
) -> None:
    case_id = await escalated_case(runtime)
    await make_user(runtime, "marieke")
    # The login form itself: no token, no login.
    response = await client.post(
        "/login", data={"username": "marieke", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403
    assert await log_in(client, "marieke") == 303
    for data in ({}, {"csrf": "guessed"}):
        refused = await client.post(f"/cases/{case_id}/claim", data=data, allow_redirects=False)
        assert refused.status == 403
    (case,) = await cases(runtime)
    assert case.assignee_id is None
    ok = await client.post(
        f"/cases/{case_id}/claim", data={"csrf": await csrf_of(client)}, allow_redirects=False
    )
    assert ok.status == 303
    assert (await cases(runtime))[0].assignee_id is not None


async def test_wrong_passwords_hold_this_address_off_the_name_for_a_while(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    # Only from this address (tests/test_login_throttle.py: others still get in).
    await make_user(runtime, "marieke")
    assert await log_in(client, "nobody") == 401  # unknown names look the same
    for _ in range(5):
        assert await log_in(client, "marieke", "wrong password!") == 401
    assert await log_in(client, "marieke") == 401  # even the right one, for now
    page = await (await client.get("/login")).text()
    assert "Naam of wachtwoord" not in page  # a fresh form says nothing of it
    clock.advance(timedelta(minutes=15))
    assert await log_in(client, "marieke") == 303
    # Held again; a coordinator who knows it is really her can lift it at once.
    await client.post("/logout", data={"csrf": await csrf_of(client)})
    for _ in range(5):
        await log_in(client, "marieke", "wrong password!")
    assert await log_in(client, "marieke") == 401
    kees = await make_user(runtime, "kees", Role.COORDINATOR)
    assert await log_in(client, "kees") == 303
    async with runtime.sessions() as session:
        marieke_id = await session.scalar(select(User.id).where(User.username == "marieke"))
    users_page = await (await client.get("/users")).text()
    assert users_page.count("geblokkeerd") == 1 and 'value="unlock"' in users_page
    await client.post(
        f"/users/{marieke_id}", data={"csrf": await csrf_of(client), "change": "unlock"}
    )
    assert "geblokkeerd" not in await (await client.get("/users")).text()
    refused = await client.post(
        f"/users/{kees.id}", data={"csrf": await csrf_of(client), "change": "deactivate"}
    )
    assert "U kunt uzelf niet uitschakelen" in await refused.text()
    await client.post("/logout", data={"csrf": await csrf_of(client)})
    assert await log_in(client, "marieke") == 303


async def test_a_consultant_cannot_manage_users_and_a_coordinator_can(
    client: Client, runtime: Runtime
) -> None:
    await make_user(runtime, "marieke")
    await make_user(runtime, "kees", Role.COORDINATOR)
    assert await log_in(client, "marieke") == 303
    assert (await client.get("/users")).status == 403
    csrf = await csrf_of(client)
    forbidden = await client.post(
        "/users",
        data={"csrf": csrf, "username": "eve", "password": PASSWORD, "role": "coordinator"},
    )
    assert forbidden.status == 403
    await client.post("/logout", data={"csrf": csrf})
    assert await log_in(client, "kees") == 303
    users_page = await (await client.get("/users")).text()
    added = await client.post(
        "/users",
        data={
            "csrf": hidden(users_page, "csrf"),
            "username": "sanne",
            "display_name": "Sanne de Boer",
            "password": "another long password",
            "role": "consultant",
        },
    )
    assert added.status == 200 and "Sanne de Boer" in await added.text()
    async with runtime.sessions() as session:
        names = list(await session.scalars(select(User.username).order_by(User.username)))
    assert names == ["kees", "marieke", "sanne"]
    # Marieke leaves: her account is switched off, and her login stops working at once.
    marieke_client = TestClient(TestServer(build_app(runtime), host="127.0.0.1"))
    async with marieke_client:
        assert await log_in(marieke_client, "marieke") == 303
        async with runtime.sessions() as session:
            marieke_id = await session.scalar(select(User.id).where(User.username == "marieke"))
        users_page = await (await client.get("/users")).text()
        await client.post(
            f"/users/{marieke_id}",
            data={"csrf": hidden(users_page, "csrf"), "change": "deactivate"},
        )
        gone = await marieke_client.get("/queue", allow_redirects=False)
        assert gone.status == 303
        assert await log_in(marieke_client, "marieke") == 401


async def test_the_queue_claims_and_filters(client: Client, runtime: Runtime) -> None:
    case_id = await escalated_case(runtime)
    await make_user(runtime, "marieke")
    await make_user(runtime, "joost")
    assert await log_in(client, "marieke") == 303
    page = await (await client.get("/queue")).text()
    assert "Anna de Vries" in page and f'data-case="{case_id}"' in page
    assert (await client.get("/cases/999")).status == 404
    missing = await client.get("/api/cases/999")
    assert missing.status == 404 and (await missing.json())["error"] == "no such case"
    assert "Anna" not in await (await client.get("/queue?who=mine")).text()
    assert "Anna" not in await (await client.get("/queue?channel=sms")).text()
    assert "Anna" in await (await client.get("/queue?channel=whatsapp&reason=help")).text()
    assert "Anna" not in await (await client.get("/queue?municipality=Zwolle")).text()
    claimed = await client.post(f"/cases/{case_id}/claim", data={"csrf": hidden(page, "csrf")})
    assert "deze zaak is van u" in await claimed.text()
    assert "Anna" in await (await client.get("/queue?who=mine")).text()
    await runtime.receive(
        InboundMessage("sms", "+31687654321", "Wie zijn jullie?", "stranger-1", runtime.clock.now())
    )
    strangers = await (await client.get("/queue")).text()
    assert "onbekende afzenders" in strangers and "Wie zijn jullie?" in strangers
    rows = (await (await client.get("/api/queue")).json())["cases"]
    assert [(r["case_id"], r["assignee"], r["channel"]) for r in rows] == [
        (case_id, "Marieke", "whatsapp")
    ]
    # A colleague who clicks a moment later is told, and does not get it.
    await client.post("/logout", data={"csrf": await csrf_of(client)})
    assert await log_in(client, "joost") == 303
    late = await client.post(f"/cases/{case_id}/claim", data={"csrf": await csrf_of(client)})
    assert "al opgepakt" in await late.text()
    (case,) = await cases(runtime)
    async with runtime.sessions() as session:
        holder = await session.scalar(select(User.username).where(User.id == case.assignee_id))
    assert holder == "marieke"


async def test_two_consultants_claiming_at_once_never_both_get_it(runtime: Runtime) -> None:
    case_id = await escalated_case(runtime)
    first = await make_user(runtime, "marieke")
    second = await make_user(runtime, "joost")

    async def try_claim(user: User) -> bool:
        async with runtime.sessions() as session, session.begin():
            return await actions.claim(session, case_id, user, runtime.clock.now())

    for _ in range(5):
        results = await asyncio.gather(try_claim(first), try_claim(second))
        assert sorted(results) == [False, True]
        async with runtime.sessions() as session, session.begin():
            winner = first if results[0] else second
            assert await actions.release(session, case_id, winner, runtime.clock.now())
    claims = [e for e in await events(runtime, case_id) if e.kind == "claimed"]
    assert len(claims) == 5


async def test_the_case_page_and_its_actions(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    case_id = await escalated_case(runtime, "ik kan 20 euro per maand")  # below the minimum
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    page = await (await client.get(f"/cases/{case_id}")).text()
    assert "Anna de Vries" in page and "<svg" in page and "06\u00a012345678" in page
    # The whole timeline, in words.
    assert "Antwoord: voorstel ontvangen" in page and "Voorstel van de huurder" in page

    async def act(action: str, **data: str) -> str:
        current = await (await client.get(f"/cases/{case_id}")).text()
        form = {"csrf": hidden(current, "csrf"), "version": hidden(current, "version"), **data}
        response = await client.post(f"/cases/{case_id}/{action}", data=form)
        assert response.status == 200
        return await response.text()

    after = await act("reply", text="Dag Anna, ik bel u morgen even over de afspraak.")
    assert "Gedaan" in after
    (sent,) = await messages(runtime, template="consultant_reply")
    assert sent.status == "sent" and sent.channel == "whatsapp"  # she wrote on WhatsApp today
    assert "ik bel u morgen" in sent.body and "Marieke" in sent.body
    await act(
        "contact",
        mode="Huisbezoek",
        reached="yes",
        outcome="Gesproken; wil 30 p/m",
        day="2026-12-01",
        hour="19:30",
    )
    (visit,) = [e for e in await events(runtime, case_id) if e.kind == "contact_logged"]
    assert (visit.actor, visit.data["mode"], visit.data["reached"], visit.data["part_of_day"]) == (
        "marieke",
        "Huisbezoek",
        True,
        "Avond",
    )
    async with runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    await act("plan", plan_id=str(plan.id), decision="approve")
    async with runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    assert (plan.status, plan.decided_by) == ("active", "marieke")
    (told,) = await messages(runtime, template="reply_plan_agreed")
    assert "€ 20,00" in told.body
    (case,) = await cases(runtime)
    assert (case.status, case.pause_reason) == ("paused", "plan")
    body = await act("pause", until="2027-01-15", note="Wacht op toeslag")
    assert "Gedaan" in body
    (case,) = await cases(runtime)
    assert case.paused_until is not None and case.paused_until.date().isoformat() == "2027-01-15"
    await act("resolve", reason="plan", note="Afspraak loopt")
    (case,) = await cases(runtime)
    assert (case.status, case.close_reason) == ("closed", "plan")
    data = await (await client.get(f"/api/cases/{case_id}")).json()
    kinds = [item["title"] for item in data["timeline"]]
    assert data["status"] == "closed" and "resolved" in kinds and "contact_logged" in kinds
    assert data["tenant"]["name"] == "Anna de Vries" and data["balance_history"]


async def test_an_action_on_a_stale_page_is_refused(client: Client, runtime: Runtime) -> None:
    case_id = await escalated_case(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    page = await (await client.get(f"/cases/{case_id}")).text()
    await runtime.receive(  # the tenant writes again meanwhile: the case changes
        InboundMessage("whatsapp", "+31612345678", "bel me", "wp-2", runtime.clock.now())
    )
    response = await client.post(
        f"/cases/{case_id}/resolve",
        data={"csrf": hidden(page, "csrf"), "version": hidden(page, "version"), "reason": "paid"},
    )
    assert "De zaak is veranderd terwijl u keek" in await response.text()
    assert (await cases(runtime))[0].status == "escalated"


def test_a_consultant_reply_avoids_a_closed_whatsapp_window() -> None:
    whatsapp = Reachable(1, "whatsapp", "+31612345678", True)
    sms = Reachable(2, "sms", "+31612345678", True)
    email = Reachable(3, "email", "a@example.nl", True)
    shared = Reachable(4, "telegram", "42", True, shared=True)
    points = [whatsapp, sms, email, shared]
    every = {"whatsapp", "sms", "email", "telegram"}
    assert replies.reply_routes(points, "whatsapp", True, every) == [whatsapp, sms, email]
    assert replies.reply_routes(points, "whatsapp", False, every) == [sms, email]
    assert replies.reply_routes(points, "email", False, every) == [email, sms]


def test_part_of_day() -> None:
    assert [actions.part_of_day(h) for h in (8, 12, 17, 18, 23)] == [
        "Ochtend",
        "Middag",
        "Middag",
        "Avond",
        "Avond",
    ]


async def test_a_consultant_in_a_team_sees_only_its_municipalities(
    client: Client, runtime: Runtime
) -> None:
    runtime.policy = runtime.policy.model_copy(
        update={"teams": {"noord": ("Meppel",), "zuid": ("Zwolle",)}}
    )
    await runtime.import_data(
        arrears_csv(row("T1"), row("T2", name="Bob", phone="06-11111111", municipality="Zwolle")),
        "d1.csv",
    )
    for phone in ("+31612345678", "+31611111111"):
        await runtime.receive(
            InboundMessage("whatsapp", phone, "hulp", f"t-{phone}", _now(runtime))
        )
    anna, bob = sorted(await cases(runtime), key=lambda c: c.tenant_id)
    async with runtime.sessions() as session, session.begin():
        await add_user(
            session,
            "sanne",
            PASSWORD,
            role=Role.CONSULTANT,
            now=_now(runtime),
            team="zuid",
            known_teams=runtime.policy.teams.keys(),
        )
        with pytest.raises(AccountError, match="unknown team"):
            await add_user(
                session,
                "piet",
                PASSWORD,
                role=Role.CONSULTANT,
                now=_now(runtime),
                team="west",
                known_teams=runtime.policy.teams.keys(),
            )
    await make_user(runtime, "kees", Role.COORDINATOR)
    assert await log_in(client, "sanne") == 303
    queue = await (await client.get("/queue")).text()
    assert "Bob" in queue and "Anna" not in queue
    assert (await client.get(f"/cases/{anna.id}")).status == 403
    assert (await client.get(f"/api/cases/{anna.id}")).status == 403
    claim = await client.post(
        f"/cases/{anna.id}/claim", data={"csrf": await csrf_of(client)}, allow_redirects=False
    )
    assert claim.status == 403
    assert (await client.get(f"/cases/{bob.id}")).status == 200
    await client.post("/logout", data={"csrf": await csrf_of(client)})
    assert await log_in(client, "kees") == 303
    everything = await (await client.get("/queue")).text()
    assert "Bob" in everything and "Anna" in everything


def _now(runtime: Runtime) -> datetime:
    return runtime.clock.now()


async def test_a_new_password_ends_every_login(client: Client, runtime: Runtime) -> None:
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    async with runtime.sessions() as session, session.begin():
        await set_password(session, "marieke", "a brand new secret")
    assert (await client.get("/queue", allow_redirects=False)).status == 303
    assert await log_in(client, "marieke") == 401
    assert await log_in(client, "marieke", "a brand new secret") == 303


async def test_a_rejected_plan_is_told_kindly_and_a_late_case_is_marked(
    client: Client, runtime: Runtime, clock: ManualClock
) -> None:
    case_id = await escalated_case(runtime, "ik kan 20 euro per maand")
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    queue = await (await client.get("/queue")).text()
    assert "over de streeftijd" not in queue
    clock.advance(timedelta(hours=49))  # policy: response_target_hours = 48
    assert (await client.get("/queue", allow_redirects=False)).status == 303  # login expired
    assert await log_in(client, "marieke") == 303
    queue = await (await client.get("/queue")).text()
    assert 'class="late"' in queue and "over de streeftijd" in queue
    page = await (await client.get(f"/cases/{case_id}")).text()
    async with runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    await client.post(
        f"/cases/{case_id}/plan",
        data={
            "csrf": hidden(page, "csrf"),
            "version": hidden(page, "version"),
            "plan_id": str(plan.id),
            "decision": "reject",
            "note": "te laag; bellen",
        },
    )
    async with runtime.sessions() as session:
        (plan,) = await session.scalars(select(PaymentPlan))
    assert (plan.status, plan.decided_by) == ("rejected", "marieke")
    (told,) = await messages(runtime, template="plan_rejected")
    assert "samen met u" in told.body and "088 123 45 67" in told.body
    (case,) = await cases(runtime)
    assert case.status == "escalated"  # still hers to follow up


async def test_the_case_page_shows_a_bewindvoerder_and_debt_assistance(
    client: Client, runtime: Runtime
) -> None:
    header = HEADER + ";administrator;debt_assistance"
    await runtime.import_data(arrears_csv(row("T1") + ";Bewind & Co;ja", header=header), "d1.csv")
    await runtime.receive(
        InboundMessage("whatsapp", "+31612345678", "hulp", "bw-1", runtime.clock.now())
    )
    (case,) = await cases(runtime)
    await make_user(runtime, "marieke")
    assert await log_in(client, "marieke") == 303
    page = await (await client.get(f"/cases/{case.id}")).text()
    assert "Bewindvoerder:</strong> Bewind &amp; Co" in page
    assert "zit in de schuldhulp" in page


async def test_a_page_shows_only_problems_we_said_not_text_from_a_link(
    client: Client, runtime: Runtime
) -> None:
    await make_user(runtime, "kees", Role.COORDINATOR)
    assert await log_in(client, "kees") == 303
    spoof = "Uw account is geblokkeerd. Bel 0900-1234 met uw wachtwoord."
    page = await (await client.get("/users", params={"problem": spoof})).text()
    assert "0900-1234" not in page and 'role="alert"' not in page
    # A refusal of our own still shows, through the redirect we make.
    users_page = await (await client.get("/users")).text()
    refused = await client.post(
        "/users",
        data={
            "csrf": hidden(users_page, "csrf"),
            "username": "kees",  # taken
            "display_name": "Kees",
            "password": "another long password",
            "role": "consultant",
        },
    )
    assert refused.status == 200 and 'role="alert"' in await refused.text()
