"""Consultants and coordinators: argon2 password hashes, and logging in, held off after
repeated failures per client address (workplace.login_throttle)."""

from __future__ import annotations

import asyncio
import secrets
import weakref
from collections.abc import Collection
from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import SessionMaker
from storage.models import User, WebSession
from workplace import login_throttle
from workplace.login_throttle import Limits

_hasher = PasswordHasher()
# Verified against when the name is unknown (or the account is off), so that every refusal
# costs one argon2 verification and the timing does not tell which names exist.
_DUMMY_HASH = _hasher.hash("no such user")
MIN_PASSWORD_LENGTH = 12


class Role(StrEnum):
    CONSULTANT = "consultant"
    COORDINATOR = "coordinator"


class AccountError(ValueError):
    pass


def check_password_rules(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if username.lower() in password.lower():
        raise AccountError("a password must not contain the user name")


async def check_new_user(
    session: AsyncSession, username: str, team: str | None, known_teams: Collection[str]
) -> tuple[str, str | None]:
    """The name and team as stored, or why they cannot be: asked before the password, so
    nobody types a password twice for a name that is taken."""
    username = username.strip().lower()
    team = _known_team(team, known_teams)
    if not username or len(username) > 100 or not username.replace(".", "").isalnum():
        raise AccountError("a user name is letters and digits (and dots), at most 100 characters")
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username} already exists")
    return username, team


async def add_user(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    role: Role,
    now: datetime,
    display_name: str | None = None,
    team: str | None = None,
    known_teams: Collection[str] = (),
) -> User:
    username, team = await check_new_user(session, username, team, known_teams)
    check_password_rules(password, username)
    user = User(
        username=username,
        display_name=(display_name or username).strip()[:200],
        role=role.value,
        team=team,
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


def _known_team(team: str | None, known_teams: Collection[str]) -> str | None:
    """A team named in the policy, or None for no team."""
    team = (team or "").strip() or None
    if team is not None and team not in known_teams:
        known = ", ".join(sorted(known_teams)) or "none yet"
        raise AccountError(f"unknown team {team!r}: teams are set in the policy ([teams]: {known})")
    return team


async def change_user(
    session: AsyncSession,
    user_id: int,
    change: str,
    by: User,
    *,
    team: str | None = None,
    known_teams: Collection[str] = (),
) -> User:
    """A coordinator's change to an account: deactivate (its logins end at once), activate,
    unlock (the name is no longer held off from any address), or move to another team (or
    none) — the queue the user sees changes with the next page."""
    user = await session.get(User, user_id)
    if user is None:
        raise AccountError("no such user")
    if change == "team":
        user.team = _known_team(team, known_teams)
    elif change == "deactivate":
        if user.id == by.id:
            raise AccountError("you cannot deactivate yourself")
        user.active = False
    elif change == "activate":
        user.active = True
    elif change == "unlock":
        await login_throttle.release_name(session, user.username)
    else:
        raise AccountError("unknown change")
    return user


async def set_password(session: AsyncSession, username: str, password: str) -> User:
    """A new password (forgotten, or leaked): every login of the account ends, any hold on
    its name is lifted."""
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise AccountError(f"no user {username.strip().lower()}")
    check_password_rules(password, user.username)
    user.password_hash = _hasher.hash(password)
    await login_throttle.release_name(session, user.username)
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


# Letters and digits no one mistakes for another when reading them out over the phone.
_PLAIN = "abcdefghjkmnpqrstuvwxyz23456789"


def new_password(username: str) -> str:
    """A password to read out to a colleague: four groups of four (about 79 bits)."""
    while True:
        groups = ("".join(secrets.choice(_PLAIN) for _ in range(4)) for _ in range(4))
        password = "-".join(groups)
        if username.lower() not in password:  # the rule every password follows
            return password


async def reset_password(
    session: AsyncSession, user_id: int, password: str | None = None
) -> tuple[User, str]:
    """A coordinator sets a colleague's new password, or has one made (`password` None) to
    pass on; every login of the account ends. Returns the user and the password."""
    user = await session.get(User, user_id)
    if user is None:
        raise AccountError("no such user")
    chosen = password or new_password(user.username)
    return await set_password(session, user.username, chosen), chosen


class LoginResult(StrEnum):
    """Why a login went as it did, for the log. The person logging in sees only OK or not:
    one status and one text for every refusal."""

    OK = "ok"
    WRONG = "wrong"  # unknown name, account off, or wrong password
    NAME_HELD = login_throttle.Held.NAME.value
    CLIENT_HELD = login_throttle.Held.CLIENT.value


async def authenticate(
    sessions: SessionMaker,
    username: str,
    password: str,
    *,
    client: str,
    now: datetime,
    limits: Limits,
) -> tuple[LoginResult, User | None]:
    """Every attempt costs the same: the charge to the throttle (keyed by the name as typed,
    so unknown names count like real ones) and one argon2 verification, also when the name
    is unknown or held off. The charge is committed before the password is checked, so
    parallel attempts cannot outrun it; the check itself holds no lock."""
    name = username.strip().lower()
    async with sessions() as session, session.begin():
        held = await login_throttle.admit(session, client, name, now, limits)
        user = await session.scalar(select(User).where(User.username == name))
    stored = user.password_hash if user is not None and user.active else None
    right = await _verify_aside(stored or _DUMMY_HASH, password) and stored is not None
    if held is not None:
        return LoginResult(held.value), None
    if not right or user is None:
        return LoginResult.WRONG, None
    async with sessions() as session, session.begin():
        await login_throttle.succeeded(session, client, name, now, limits)
        user = await session.get(User, user.id)
        if user is None or not user.active or stored is None or user.password_hash != stored:
            return LoginResult.WRONG, None  # switched off, or a new password, meanwhile
        if _hasher.check_needs_rehash(stored):
            user.password_hash = _hasher.hash(password)
    return LoginResult.OK, user


class LoginBusy(Exception):
    """Too many logins at once (a flood): the caller should answer 503 and try later."""


# argon2 takes a tenth of a second and 64 MiB per check. In threads (argon2-cffi lets go of
# the GIL) the event loop keeps serving webhooks and pages meanwhile; a few at a time keep
# the memory bounded, and a flood of logins waits its turn without holding a connection.
PARALLEL_CHECKS = 2
LONGEST_WAIT_SECONDS = 10.0
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _verify_aside(password_hash: str, password: str) -> bool:
    gate = _gates.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(PARALLEL_CHECKS))
    try:
        async with asyncio.timeout(LONGEST_WAIT_SECONDS):
            await gate.acquire()
    except TimeoutError:
        raise LoginBusy from None
    try:
        return await asyncio.to_thread(_verify, password_hash, password)
    finally:
        gate.release()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
