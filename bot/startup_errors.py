"""Why a command could not start, in one sentence for the operator: no traceback, and no
value from the settings (a database URL carries its password)."""

from __future__ import annotations

import errno

from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.exc import OperationalError as SQLOperationalError

from bot.settings import SetupError
from rules.policy import PolicyError
from storage.db import describe


def explain(error: BaseException) -> str:
    if isinstance(error, SetupError | PolicyError):
        return str(error)
    if isinstance(error, ArgumentError | NoSuchModuleError):
        return (
            "ARREARS_DATABASE_URL is not a database this service can use: give "
            "sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME"
        )
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return "the port is in use by another program: stop it, or set ARREARS_PORT"
    if isinstance(error, FileNotFoundError):
        return "a file named in the settings does not exist (ARREARS_POLICY_FILE?)"
    if isinstance(error, OSError | SQLOperationalError) or _from_asyncpg(error):
        return (
            "the database cannot be reached or refused the connection "
            f"({type(error).__name__}); check ARREARS_DATABASE_URL and that the database runs"
        )
    if isinstance(error, OverflowError):
        return "ARREARS_PORT must be between 1 and 65535"
    return f"an unexpected error stopped the start ({describe(error)}); please report it"


def _from_asyncpg(error: BaseException) -> bool:
    return type(error).__module__.startswith("asyncpg")
