"""Requests as an attacker or a careless tool would send them, against the whole app (the
workplace, the Twilio webhooks) on both databases: every one gets a clear 4xx or its normal
answer, never a 500 or a traceback, and a refused one writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote_from_bytes

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from yarl import URL

from bot.logs import quiet_libraries
from bot.runtime import Runtime
from bot.web import build_app
from rules.clock import ManualClock
from storage.models import CaseEvent, Message
from tests.db_helpers import messages
from tests.factories import arrears_csv, row
from tests.fakes.twilio import signature
from tests.pages import hidden
from tests.twilio_fixtures import PUBLIC, inbound_form
from workplace.accounts import Role, add_user

Client = TestClient  # type: ignore[type-arg]
PASSWORD = "correct horse battery"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    """A coordinator logged in: every page is open to them."""
    await runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    async with runtime.sessions() as session, session.begin():
        await add_user(session, "coco", PASSWORD, role=Role.COORDINATOR, now=runtime.clock.now())
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as test_client:
        page = await (await test_client.get("/login")).text()
        form = {"username": "coco", "password": PASSWORD, "csrf": hidden(page, "csrf")}
        logged_in = await test_client.post("/login", data=form, allow_redirects=False)
        assert logged_in.status == 303
        yield test_client


@pytest.fixture
async def webhooks(twilio_runtime: Runtime) -> AsyncIterator[Client]:
    """The app as Twilio reaches it (no login)."""
    async with TestClient(TestServer(build_app(twilio_runtime), host="127.0.0.1")) as test_client:
        yield test_client


async def written(runtime: Runtime) -> tuple[int, int]:
    async with runtime.sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(Message)) or 0,
            await session.scalar(select(func.count()).select_from(CaseEvent)) or 0,
        )


async def answer(response: object) -> int:
    from aiohttp import ClientResponse

    assert isinstance(response, ClientResponse)
    assert "Traceback" not in await response.text()
    return response.status


@pytest.mark.parametrize(
    "path",
    [
        "/queue?municipality=%00",
        "/queue?reason=%00&who=%ff",
        "/api/reports?to=9999-12-31",
        "/reports?from=0001-01-01",
        "/api/reports?from=2026-13-45",
        "/queue?municipality=" + "x" * 30_000,
    ],
)
async def test_query_values_we_cannot_use_are_a_400(client: Client, path: str) -> None:
    assert await answer(await client.get(URL(path, encoded=True))) == 400


@pytest.mark.parametrize(
    "path",
    [
        "/cases/99999999999999999999",
        "/api/cases/9223372036854775808",
        "/cases/0",
        "/cases/2147483648",  # beyond PostgreSQL's integer, within int64
        "/cases/2147483648/record",
        "/signals/batches/2147483648.csv",
    ],
)
async def test_ids_beyond_any_row_are_a_404(client: Client, path: str) -> None:
    assert await answer(await client.get(path)) == 404


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=utf-8", b"username=\xff\xfe&password=x"),
        ("application/x-www-form-urlencoded; charset=no-such-charset", b"username=a"),
        ("multipart/form-data; boundary=zzz", b"--zzz\r\nbroken"),
    ],
)
async def test_an_unreadable_login_form_is_a_400_without_any_credentials(
    runtime: Runtime, content_type: str, body: bytes
) -> None:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as anonymous:
        response = await anonymous.post("/login", data=body, headers={"Content-Type": content_type})
        assert await answer(response) == 400


async def test_a_form_with_a_nul_is_refused_and_changes_nothing(
    client: Client, runtime: Runtime
) -> None:
    before = await written(runtime)
    csrf = hidden(await (await client.get("/queue")).text(), "csrf")
    case_id = (await (await client.get("/api/queue")).json())["cases"]
    response = await client.post(
        "/users", data={"csrf": csrf, "username": "eve\x00", "role": "consultant"}
    )
    assert await answer(response) == 400
    assert await written(runtime) == before
    assert case_id == [] or isinstance(case_id, list)


PAGES = [
    "/queue",
    "/api/queue",
    "/reports",
    "/api/reports",
    "/signals",
    "/users",
    "/login",
    "/cases/1",
    "/api/cases/1",
    "/cases/1/dossier",
    "/cases/1/record",
]
NAMES = ["municipality", "reason", "who", "channel", "from", "to", "problem", "notice", "next"]


@FUZZ
@given(
    path=st.sampled_from(PAGES),
    query=st.lists(st.tuples(st.sampled_from(NAMES), st.binary(max_size=40)), max_size=4),
)
async def test_fuzzed_query_parameters_are_never_a_500(
    client: Client, runtime: Runtime, path: str, query: list[tuple[str, bytes]]
) -> None:
    encoded = "&".join(f"{name}={quote_from_bytes(value)}" for name, value in query)
    before = await written(runtime)
    response = await client.get(URL(f"{path}?{encoded}", encoded=True), allow_redirects=False)
    assert await answer(response) < 500
    assert await written(runtime) == before  # a page never writes


TWILIO_FIELDS = ["MessageSid", "From", "To", "Body", "AccountSid", "MessageStatus", "ErrorCode"]


@FUZZ
@given(
    route=st.sampled_from(["sms", "whatsapp", "status"]),
    fields=st.dictionaries(st.sampled_from(TWILIO_FIELDS), st.text(max_size=300), max_size=7),
    sign=st.booleans(),
)
async def test_fuzzed_twilio_webhooks_are_never_a_500(
    webhooks: Client,
    twilio_runtime: Runtime,
    route: str,
    fields: dict[str, str],
    sign: bool,
) -> None:
    path = f"/webhooks/twilio/{route}"
    form = {**inbound_form("hulp", "SM" + "c" * 32), **fields}
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form) if sign else "forged"}
    before = await written(twilio_runtime)
    status = await answer(await webhooks.post(path, data=form, headers=headers))
    assert status < 500 or status == 503
    if status >= 400:
        assert await written(twilio_runtime) == before
    if not sign:
        assert status == 403


@FUZZ
@given(
    route=st.sampled_from(["sms", "whatsapp", "status"]),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-9000",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain",
        ]
    ),
    body=st.binary(max_size=400),
)
async def test_fuzzed_twilio_bodies_are_refused_and_stored_nowhere(
    webhooks: Client, twilio_runtime: Runtime, route: str, content_type: str, body: bytes
) -> None:
    path = f"/webhooks/twilio/{route}"
    before = await written(twilio_runtime)
    response = await webhooks.post(
        path, data=body, headers={"Content-Type": content_type, "X-Twilio-Signature": "x"}
    )
    assert await answer(response) in (400, 403)
    assert await written(twilio_runtime) == before


async def test_an_unforeseen_error_is_a_plain_500_logged_without_its_values(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise ValueError("invalid input for query argument $1: 'Anna de Vries'")

    app = build_app(runtime)
    app.router.add_get("/broken/{n}", broken)
    async with TestClient(TestServer(app, host="127.0.0.1")) as anonymous:
        response = await anonymous.get("/broken/7")
        body = await response.text()
    assert response.status == 500 and "Anna" not in body and "Traceback" not in body
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.request_guards"]
    assert line.startswith("GET /broken/{n} failed: builtins.ValueError at ")
    assert "Anna" not in caplog.text


@pytest.mark.parametrize(
    "fields",
    [
        {"From": "+31" + "6" * 5000},
        {"From": "whatsapp:" + "x" * 2000},
        {"Body": "hulp\x00nodig"},
        {"Body": "x" * 100_000},
        {"To": "\x00"},
        {"ErrorCode": "9" * 5000, "MessageStatus": "failed"},
    ],
)
async def test_signed_but_odd_twilio_fields_are_kept_or_refused_never_a_500(
    webhooks: Client, twilio_runtime: Runtime, fields: dict[str, str]
) -> None:
    for route in ("sms", "whatsapp", "status"):
        path = f"/webhooks/twilio/{route}"
        form = {**inbound_form("hulp", "SM" + "d" * 32), **fields}
        headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
        before = await written(twilio_runtime)
        status = await answer(await webhooks.post(path, data=form, headers=headers))
        assert status in (200, 204, 400), (route, status)
        if status == 400:
            assert await written(twilio_runtime) == before


@pytest.mark.parametrize("path", ["/login", "/webhooks/twilio/sms"])
async def test_a_body_that_cannot_be_decompressed_is_a_400_logged_in_one_line(
    webhooks: Client, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_libraries()
    response = await webhooks.post(
        path,
        data=b"not gzip at all",
        headers={"Content-Encoding": "gzip", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert await answer(response) == 400
    assert "Traceback" not in caplog.text


async def test_a_request_aiohttp_cannot_parse_names_no_software_and_logs_no_headers(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_libraries()
    server = TestServer(build_app(runtime), host="127.0.0.1")
    await server.start_server()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        cookie = "arrears_session=" + "s" * 9000  # longer than aiohttp takes for a header
        writer.write(f"GET /queue HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode())
        await writer.drain()
        raw = await reader.read(65536)
        writer.close()
    finally:
        await server.close()
    head = raw.decode("latin-1").split("\r\n\r\n", 1)[0]
    assert head.split(" ")[1] == "400" and "Server: arrears-bot" in head
    assert "aiohttp" not in head and "Python" not in head
    assert "ssssssss" not in caplog.text and "127.0.0.1" not in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.postgresql_only
async def test_a_flood_of_logins_is_refused_or_answered_never_a_500(
    backend: str, runtime: Runtime
) -> None:
    async with TestClient(TestServer(build_app(runtime), host="127.0.0.1")) as flood:
        page = await (await flood.get("/login")).text()
        form = {"username": "nobody", "password": "x" * 12, "csrf": hidden(page, "csrf")}

        async def one() -> int:
            return (await flood.post("/login", data=form)).status

        statuses = await asyncio.gather(*(one() for _ in range(60)), flood.get("/healthz"))
    health = statuses.pop()
    assert not isinstance(health, int) and health.status == 200
    assert set(statuses) <= {401, 503}, statuses


async def test_a_delivery_receipt_with_an_unstorable_error_code_is_recorded_once(
    webhooks: Client, twilio_runtime: Runtime, clock: ManualClock
) -> None:
    await twilio_runtime.import_data(arrears_csv(row("T1")), "d1.csv")
    clock.advance(timedelta(days=3, hours=1))
    await twilio_runtime.tick()
    await twilio_runtime.dispatch()
    (sent,) = await messages(twilio_runtime, direction="out")
    assert sent.provider_id
    path = "/webhooks/twilio/status"
    form = {"MessageSid": sent.provider_id, "MessageStatus": "failed", "ErrorCode": "1\x00"}
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC}{path}", form)}
    response = await webhooks.post(path, data=form, headers=headers)
    assert await answer(response) in (200, 204)  # not 503: Twilio would retry it forever
    (failed, *_) = await messages(twilio_runtime, direction="out")
    assert failed.status in ("failed", "queued") and "\x00" not in (failed.last_error or "")
