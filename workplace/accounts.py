"""Consultants and coordinators: argon2 password hashes, and a lock-out after repeated wrong
passwords. The lock-out rule is pure; the rest reads and writes the users table."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import User, WebSession

_hasher = PasswordHasher()
# Verified against when the name is unknown, so that a wrong name costs as long as a wrong
# password and the timing does not tell which names exist.
_DUMMY_HASH = _hasher.hash("no such user")
MIN_PASSWORD_LENGTH = 12


class Role(StrEnum):
    CONSULTANT = "consultant"
    COORDINATOR = "coordinator"


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Lockout:
    failures: int
    locked_until: datetime | None


def after_failure(failures: int, now: datetime, max_failures: int, minutes: int) -> Lockout:
    """One more wrong password: lock for `minutes` once `max_failures` are reached in a row."""
    failures += 1
    if failures >= max_failures:
        return Lockout(0, now + timedelta(minutes=minutes))
    return Lockout(failures, None)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def check_password_rules(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if username.lower() in password.lower():
        raise AccountError("a password must not contain the user name")


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
    username = username.strip().lower()
    team = (team or "").strip() or None
    if team is not None and team not in known_teams:
        known = ", ".join(sorted(known_teams)) or "none yet"
        raise AccountError(f"unknown team {team!r}: teams are set in the policy ([teams]: {known})")
    if not username or len(username) > 100 or not username.replace(".", "").isalnum():
        raise AccountError("a user name is letters and digits (and dots), at most 100")
    check_password_rules(password, username)
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username} already exists")
    user = User(
        username=username,
        display_name=(display_name or username).strip()[:200],
        role=role.value,
        team=team,
        password_hash=_hasher.hash(password),
        failed_logins=0,
        active=True,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def change_user(session: AsyncSession, user_id: int, change: str, by: User) -> User:
    """A coordinator's change to an account: deactivate (its logins end at once), activate,
    or unlock after a lock-out."""
    user = await session.get(User, user_id)
    if user is None:
        raise AccountError("no such user")
    if change == "deactivate":
        if user.id == by.id:
            raise AccountError("you cannot deactivate yourself")
        user.active = False
    elif change == "activate":
        user.active = True
    elif change == "unlock":
        user.failed_logins, user.locked_until = 0, None
    else:
        raise AccountError("unknown change")
    return user


async def set_password(session: AsyncSession, username: str, password: str) -> User:
    """A new password (forgotten, or leaked): every login of the account ends, any lock-out
    is lifted."""
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise AccountError(f"no user {username.strip().lower()}")
    check_password_rules(password, user.username)
    user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


class LoginResult(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown name or wrong password: the page says the same for both
    LOCKED = "locked"


async def authenticate(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    now: datetime,
    max_failures: int,
    lockout_minutes: int,
) -> tuple[LoginResult, User | None]:
    user = await session.scalar(
        select(User).where(User.username == username.strip().lower()).with_for_update()
    )
    if user is None or not user.active or user.password_hash is None:
        _verify(_DUMMY_HASH, password)
        return LoginResult.WRONG, None
    if is_locked(user.locked_until, now):
        return LoginResult.LOCKED, None
    if not _verify(user.password_hash, password):
        lock = after_failure(user.failed_logins, now, max_failures, lockout_minutes)
        user.failed_logins, user.locked_until = lock.failures, lock.locked_until
        return (LoginResult.LOCKED if lock.locked_until else LoginResult.WRONG), None
    user.failed_logins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return LoginResult.OK, user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
