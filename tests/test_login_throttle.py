"""The login's defences against guessing, through real HTTP: failed logins are held off per
client address (clients connect from 127.0.0.1 and 127.0.0.2), a stranger cannot lock a
colleague out, and no answer or timing tells which names exist."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import TCPConnector, web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import build_app
from messaging.channels.sandbox import SandboxChannel
from rules.clock import ManualClock
from rules.policy import CHANNELS
from workplace import accounts
from workplace.accounts import Role, add_user, set_password
from workplace.client_address import client_address
from workplace.login_throttle import Count, Limit, charge, client_key, is_held, refund

Client = TestClient  # type: ignore[type-arg]
PASSWORD = "correct horse battery"
WRONG = "wrong password!"
STRANGER, COLLEAGUE = "127.0.0.2", "127.0.0.1"


@asynccontextmanager
async def client_from(runtime: Runtime, address: str) -> AsyncIterator[Client]:
    """A browser on another machine: its connections come from `address`."""
    server = TestServer(build_app(runtime), host="127.0.0.1")
    connector = TCPConnector(local_addr=(address, 0))
    async with TestClient(server, connector=connector) as test_client:
        yield test_client


@pytest.fixture
async def stranger(runtime: Runtime) -> AsyncIterator[Client]:
    async with client_from(runtime, STRANGER) as test_client:
        yield test_client


@pytest.fixture
async def colleague(runtime: Runtime) -> AsyncIterator[Client]:
    async with client_from(runtime, COLLEAGUE) as test_client:
        yield test_client


async def make_user(runtime: Runtime, name: str, role: Role = Role.CONSULTANT) -> None:
    async with runtime.sessions() as session, session.begin():
        await add_user(session, name, PASSWORD, role=role, now=runtime.clock.now())


async def attempt(
    client: Client, name: str, password: str = PASSWORD, forwarded_for: str | None = None
) -> tuple[int, str]:
    """Log in through the form: the status, and the page with its one-off token blanked."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = await (await client.get("/login", headers=headers)).text()
    found = re.search(r'name="csrf" value="([^"]*)"', page)
    assert found
    response = await client.post(
        "/login",
        data={"username": name, "password": password, "csrf": found.group(1)},
        headers=headers,
        allow_redirects=False,
    )
    body = re.sub(r'name="csrf" value="[^"]*"', 'name="csrf" value=""', await response.text())
    return response.status, body


async def log_in(client: Client, name: str, password: str = PASSWORD) -> int:
    return (await attempt(client, name, password))[0]


async def csrf_of(client: Client) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', await (await client.get("/queue")).text())
    assert found
    return found.group(1)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification, by the hash it was against: the time a login takes."""
    seen: list[str] = []
    real: Callable[[str, str], bool] = accounts._verify

    def counting(password_hash: str, password: str) -> bool:
        seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", counting)
    return seen


async def test_unknown_and_held_off_names_get_the_same_answer_and_cost(
    stranger: Client, runtime: Runtime, verifications: list[str]
) -> None:
    await make_user(runtime, "marieke")
    unknown = await attempt(stranger, "nobody", WRONG)
    wrong = await attempt(stranger, "marieke", WRONG)
    for _ in range(4):
        await attempt(stranger, "marieke", WRONG)
    held_wrong = await attempt(stranger, "marieke", WRONG)
    held_right = await attempt(stranger, "marieke", PASSWORD)  # held off: no way to tell
    unknown_after = await attempt(stranger, "nobody", WRONG)
    assert unknown[0] == 401
    assert unknown == wrong == held_wrong == held_right == unknown_after
    # Every answer cost one argon2 verification, held off or not, known name or not.
    assert len(verifications) == 9


async def test_a_strangers_failures_do_not_keep_the_colleague_out(
    stranger: Client, colleague: Client, runtime: Runtime
) -> None:
    await make_user(runtime, "marieke")
    for _ in range(10):
        assert await log_in(stranger, "marieke", WRONG) == 401
    assert await log_in(stranger, "marieke") == 401  # the stranger's guesses stop here
    assert await log_in(colleague, "marieke") == 303  # she still gets in from her desk
    assert await log_in(stranger, "marieke") == 401  # and that lifts nothing for him


async def test_too_many_failures_from_one_address_hold_it_off_every_name(
    stranger: Client, colleague: Client, runtime: Runtime, clock: ManualClock
) -> None:
    await make_user(runtime, "kees", Role.COORDINATOR)
    for number in range(20):  # one try per name: no name is held off on its own
        assert await log_in(stranger, f"guess{number}", WRONG) == 401
    assert await log_in(stranger, "kees") == 401  # a name never tried, the right password
    assert await log_in(colleague, "kees") == 303  # other addresses are not held off
    clock.advance(timedelta(minutes=15))
    assert await log_in(stranger, "kees") == 303  # the hold is over


async def test_while_held_off_known_and_unknown_names_get_the_same_answer(
    stranger: Client, runtime: Runtime, verifications: list[str]
) -> None:
    await make_user(runtime, "marieke")
    for number in range(20):
        await log_in(stranger, f"guess{number}", WRONG)
    verifications.clear()
    answers = {
        await attempt(stranger, "marieke", PASSWORD),
        await attempt(stranger, "marieke", WRONG),
        await attempt(stranger, "nobody", WRONG),
        await attempt(stranger, "nobody", PASSWORD),
    }
    assert len(answers) == 1 and next(iter(answers))[0] == 401
    assert len(verifications) == 4  # held off, and still the same work for each


async def test_logging_in_between_guesses_does_not_reset_the_address(
    stranger: Client, runtime: Runtime
) -> None:
    # The stranger has an account of his own: logging in with it gives back only that try.
    await make_user(runtime, "joost")
    for number in range(19):
        await log_in(stranger, f"guess{number}", WRONG)
    assert await log_in(stranger, "joost") == 303
    await stranger.post("/logout", data={"csrf": await csrf_of(stranger)})
    assert await log_in(stranger, "guess19", WRONG) == 401
    assert await log_in(stranger, "joost") == 401  # twenty failures: held off


async def test_a_burst_of_parallel_guesses_gets_no_more_tries(
    stranger: Client, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Each attempt is charged before its password is checked: twelve at once on one name
    get five checks, not twelve."""
    await make_user(runtime, "marieke")
    with caplog.at_level(logging.INFO, logger="workplace.login_routes"):
        statuses = await asyncio.gather(*(log_in(stranger, "marieke", WRONG) for _ in range(12)))
    assert set(statuses) == {401}
    refused = [r.getMessage() for r in caplog.records if "login refused" in r.getMessage()]
    assert refused.count("login refused (wrong)") == 5
    assert refused.count("login refused (name_held)") == 7


async def test_the_counts_hold_across_processes(
    settings: Settings, runtime: Runtime, clock: ManualClock, sandbox: SandboxChannel
) -> None:
    """Two `serve` processes on one database count the same failures."""
    await make_user(runtime, "marieke")
    other = await Runtime.start(
        settings, clock=clock, channels=dict.fromkeys(CHANNELS, sandbox), migrate=False
    )
    try:
        async with client_from(runtime, STRANGER) as first, client_from(other, STRANGER) as second:
            for client in (first, second, first, second, first):
                assert await log_in(client, "marieke", WRONG) == 401
            assert await log_in(second, "marieke") == 401
            assert await log_in(first, "marieke") == 401
    finally:
        await other.close()


async def test_a_new_password_opens_the_name_again(stranger: Client, runtime: Runtime) -> None:
    await make_user(runtime, "marieke")
    for _ in range(5):
        await log_in(stranger, "marieke", WRONG)
    async with runtime.sessions() as session, session.begin():
        await set_password(session, "marieke", "a brand new secret")
    assert await log_in(stranger, "marieke", "a brand new secret") == 303


def test_the_hold_rule() -> None:
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    minutes = timedelta(minutes=1)
    limit = Limit(failures=3, window=15 * minutes, hold=15 * minutes)
    count = Count(0, now, None)
    for _ in range(2):
        count, admitted = charge(count, now, limit)
        assert admitted and not is_held(count, now)
    count, admitted = charge(count, now, limit)
    assert admitted and count.held_until == now + 15 * minutes  # checked, held if wrong
    assert refund(count, limit) == Count(2, now, None)  # it was right after all
    assert charge(count, now + 14 * minutes, limit) == (count, False)  # not even counted
    after, admitted = charge(count, now + 15 * minutes, limit)
    assert admitted and after == Count(1, now + 15 * minutes, None)  # a clean slate
    # Failures older than the window are forgotten.
    old, _ = charge(Count(0, now, None), now, limit)
    later, _ = charge(old, now + 16 * minutes, limit)
    assert later == Count(1, now + 16 * minutes, None)


@pytest.mark.parametrize(
    ("remote", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one line's /64 is one client
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        (None, "unknown"),
    ],
)
def test_what_counts_as_one_client(remote: str | None, key: str) -> None:
    assert client_key(remote) == key


async def test_behind_a_trusted_proxy_each_visitor_counts_alone(
    colleague: Client, runtime: Runtime
) -> None:
    """Both come through the proxy on 127.0.0.1; it says whom it forwarded for."""
    runtime.settings = runtime.settings.model_copy(update={"trusted_proxies": "127.0.0.1"})
    await make_user(runtime, "marieke")
    for _ in range(25):  # past the per-name and the per-address limits
        status, _ = await attempt(colleague, "marieke", WRONG, forwarded_for="203.0.113.9")
        assert status == 401
    # A visitor who puts a false address first is still counted by what the proxy appended.
    spoof = "198.51.100.7, 203.0.113.9"
    assert (await attempt(colleague, "marieke", PASSWORD, forwarded_for=spoof))[0] == 401
    assert (await attempt(colleague, "marieke", PASSWORD, forwarded_for="198.51.100.7"))[0] == 303


async def test_an_untrusted_forwarded_for_is_not_believed(
    stranger: Client, colleague: Client, runtime: Runtime
) -> None:
    """Without a trusted proxy, a stranger cannot pass for a new client on every guess."""
    await make_user(runtime, "marieke")
    for n in range(20):
        status, _ = await attempt(stranger, f"name{n}", WRONG, forwarded_for=f"198.51.100.{n}")
        assert status == 401
    assert await log_in(stranger, "marieke") == 401  # the address is held off every name
    assert await log_in(colleague, "marieke") == 303


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        ("", "203.0.113.9", "127.0.0.1"),  # no proxy named: the header is the client's word
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("127.0.0.1", "1.1.1.1, 203.0.113.9", "203.0.113.9"),  # what the proxy appended
        ("127.0.0.0/8,10.0.0.0/8", "203.0.113.9, 10.0.0.5", "203.0.113.9"),  # two hops
        ("127.0.0.1", "", "127.0.0.1"),  # the proxy's own request
        ("10.0.0.0/8", "203.0.113.9", "127.0.0.1"),  # not from a trusted proxy
    ],
)
async def test_which_address_counts(proxies: str, forwarded: str, expected: str) -> None:
    seen: list[str | None] = []
    networks = Settings(_env_file=None, trusted_proxies=proxies).trusted_networks()  # type: ignore[call-arg]

    async def who(request: web.Request) -> web.Response:
        seen.append(client_address(request, networks))
        return web.Response()

    app = web.Application()
    app.router.add_get("/", who)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        await test_client.get("/", headers=headers)
    assert seen == [expected]


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ValueError, match="not an address or network"):
        Settings(_env_file=None, trusted_proxies="127.0.0.1,proxy.internal")  # type: ignore[call-arg]
