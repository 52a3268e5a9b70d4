"""Login sessions: a random token, signed in an HttpOnly SameSite cookie, hashed in the
database. Logout and expiry end it on the server, whatever the browser keeps."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import User, WebSession

COOKIE = "arrears_session"


@dataclass(frozen=True)
class Login:
    user: User
    session_id: int
    csrf_token: str
    language: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionSigner:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="arrears-bot session")

    def sign(self, token: str) -> str:
        return self._serializer.dumps(token)

    def unsign(self, value: str) -> str | None:
        try:
            token = self._serializer.loads(value)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


async def start(
    session: AsyncSession, user: User, *, now: datetime, hours: float, language: str | None = None
) -> tuple[str, str]:
    """A new login for `user`: returns the token for the cookie and the CSRF token. It
    speaks the language the user chose before, unless told otherwise."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_hash(token),
            user_id=user.id,
            csrf_token=csrf,
            language=language or user.language or "nl",
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    # Old, expired logins of this user go at the same time.
    await session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
    )
    return token, csrf


async def find(session: AsyncSession, token: str, now: datetime) -> Login | None:
    found = await session.scalar(
        select(WebSession)
        .where(WebSession.token_hash == _hash(token), WebSession.expires_at > now)
        .options(selectinload(WebSession.user))
    )
    if found is None or not found.user.active:
        return None
    # The user's choice wins: made in another browser, it holds here from the next page.
    return Login(found.user, found.id, found.csrf_token, found.user.language or found.language)


async def end(session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


async def set_language(session: AsyncSession, session_id: int, language: str) -> None:
    """The language for this login and, kept with the account, for every later one."""
    found = await session.get(WebSession, session_id, options=[selectinload(WebSession.user)])
    if found is not None:
        found.language = language
        found.user.language = language
