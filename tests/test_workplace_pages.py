"""The users page through real HTTP on 127.0.0.1: a coordinator puts a colleague in a team
and gives a colleague a new password; a consultant can do neither."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.runtime import Runtime
from bot.web import build_app
from messaging.channels.base import InboundMessage
from storage.models import User
from tests.factories import arrears_csv, row
from tests.test_workplace import PASSWORD, csrf_of, hidden, log_in, make_user
from workplace.accounts import Role

Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def user(runtime: Runtime, name: str) -> User:
    async with runtime.sessions() as session:
        found = await session.scalar(select(User).where(User.username == name))
    assert found is not None
    return found


def user_row(page: str, name: str) -> str:
    found = re.search(rf'<tr data-user="{re.escape(name)}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {name}"
    return found.group(1)


async def change(client: Client, user_id: int, **data: str) -> tuple[int, str]:
    page = await (await client.get("/users")).text()
    response = await client.post(f"/users/{user_id}", data={"csrf": hidden(page, "csrf"), **data})
    return response.status, await response.text()


async def test_a_coordinator_moves_a_consultant_to_a_team(client: Client, runtime: Runtime) -> None:
    runtime.policy = runtime.policy.model_copy(
        update={"teams": {"noord": ("Meppel",), "zuid": ("Zwolle",)}}
    )
    await runtime.import_data(
        arrears_csv(row("T1"), row("T2", name="Bob", phone="06-11111111", municipality="Zwolle")),
        "d1.csv",
    )
    for phone in ("+31612345678", "+31611111111"):
        await runtime.receive(
            InboundMessage("whatsapp", phone, "hulp", f"t-{phone}", runtime.clock.now())
        )
    await make_user(runtime, "marieke")
    await make_user(runtime, "kees", Role.COORDINATOR)
    marieke = await user(runtime, "marieke")

    # A consultant may not move anyone, herself included.
    assert await log_in(client, "marieke") == 303
    refused = await client.post(
        f"/users/{marieke.id}", data={"csrf": await csrf_of(client), "change": "team"}
    )
    assert refused.status == 403
    queue = await (await client.get("/queue")).text()
    assert "Anna" in queue and "Bob" in queue  # no team: every case
    await client.post("/logout", data={"csrf": await csrf_of(client)})

    assert await log_in(client, "kees") == 303
    page = await (await client.get("/users")).text()
    assert f'id="team-{marieke.id}"' in page and "<option>noord</option>" in page
    status, page = await change(client, marieke.id, change="team", team="noord")
    assert status == 200 and 'role="status">Opgeslagen.' in page
    assert "noord" in user_row(page, "marieke")
    assert (await user(runtime, "marieke")).team == "noord"

    status, page = await change(client, marieke.id, change="team", team="west")
    assert status == 200 and "Onbekend team &#39;west&#39;" in page
    assert (await user(runtime, "marieke")).team == "noord"

    # Marieke's next page shows only her team's municipality.
    other = TestClient(TestServer(build_app(runtime), host="127.0.0.1"))
    async with other:
        assert await log_in(other, "marieke") == 303
        queue = await (await other.get("/queue")).text()
        assert "Anna" in queue and "Bob" not in queue
        # Out of every team again: every case.
        await change(client, marieke.id, change="team", team="")
        assert (await user(runtime, "marieke")).team is None
        queue = await (await other.get("/queue")).text()
        assert "Anna" in queue and "Bob" in queue


async def test_a_coordinator_gives_a_consultant_a_new_password(
    client: Client, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await make_user(runtime, "marieke")
    await make_user(runtime, "sanne")
    await make_user(runtime, "kees", Role.COORDINATOR)
    marieke = await user(runtime, "marieke")

    # A consultant cannot reset a colleague's password.
    assert await log_in(client, "sanne") == 303
    refused = await client.post(
        f"/users/{marieke.id}",
        data={"csrf": await csrf_of(client), "change": "password", "password": ""},
    )
    assert refused.status == 403
    await client.post("/logout", data={"csrf": await csrf_of(client)})

    forgot = TestClient(TestServer(build_app(runtime), host="127.0.0.1"))
    async with forgot:
        assert await log_in(forgot, "marieke") == 303  # logged in somewhere: that ends too
        assert await log_in(client, "kees") == 303
        forged = await client.post(
            f"/users/{marieke.id}", data={"change": "password", "password": ""}
        )
        assert forged.status == 403  # no CSRF token
        assert await log_in(forgot, "marieke") == 303

        # Left empty: a password is made and shown once, on this answer only.
        status, page = await change(client, marieke.id, change="password", password="")
        assert status == 200
        found = re.search(r'<code id="made-password">([^<]+)</code>', page)
        assert found and "marieke" in page
        made = found.group(1)
        assert len(made) >= 12 and "Alle logins van deze gebruiker zijn gestopt." in page
        assert made not in await (await client.get("/users")).text()
        assert made not in caplog.text
        assert (await forgot.get("/queue", allow_redirects=False)).status == 303
        assert await log_in(forgot, "marieke") == 401
        assert await log_in(forgot, "marieke", made) == 303

    # Typed by the coordinator: the rules for a password hold, and it is not shown back.
    status, page = await change(client, marieke.id, change="password", password="kort")
    assert status == 200 and "Een wachtwoord heeft minstens 12 tekens." in page
    typed = "een heel nieuw wachtwoord"
    status, page = await change(client, marieke.id, change="password", password=typed)
    assert status == 200 and 'role="status">Wachtwoord gewijzigd.' in page
    assert typed not in page and typed not in caplog.text
    other = TestClient(TestServer(build_app(runtime), host="127.0.0.1"))
    async with other:
        assert await log_in(other, "marieke", PASSWORD) == 401
        assert await log_in(other, "marieke", typed) == 303
