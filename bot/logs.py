"""Logging for the processes: our own lines carry ids and counts only, and the libraries that
would print values (SQL rows and parameters, provider payloads, what a client sent) are kept
above DEBUG and INFO, or stripped to the kind of error, at every level an operator may
choose."""

from __future__ import annotations

import logging

from storage.db import describe

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# aiohttp's access log without the client's address, user agent or referrer.
ACCESS_LOG_FORMAT = '"%r" %s %b %Tfs'

# Each of these logs values at INFO or DEBUG: SQLAlchemy statements with their result rows,
# aiosqlite every call with its arguments, twilio every request's URL (a phone number when
# it looks one up), APScheduler a line per run (noise, not data).
_LOUD = ("sqlalchemy", "aiosqlite", "twilio", "apscheduler")

# These log a failure with the error's message and traceback: aiohttp's server a request it
# could not parse (with the client's address and a piece of its headers, a session cookie
# too), aiogram an update it could not handle (the error's message can quote the update or
# a row). Their lines keep the kind and place of the error only.
_RETOLD = {
    "aiohttp.server": "a request failed in the HTTP layer",
    "aiogram.event": "a Telegram update could not be handled",
    "aiogram.dispatcher": "Telegram polling failed",
}


class _KindOnly(logging.Filter):
    def __init__(self, what: str) -> None:
        super().__init__()
        self._what = what

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or record.exc_info:
            error = record.exc_info[1] if record.exc_info else None
            record.msg = "%s: %s" if error is not None else "%s"
            record.args = (self._what, describe(error)) if error is not None else (self._what,)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
    quiet_libraries()


def quiet_libraries() -> None:
    root = logging.getLogger().level
    for name in _LOUD:
        logging.getLogger(name).setLevel(max(logging.WARNING, root))
    # Alembic names each migration step at INFO: a dozen lines before a command's answer on
    # a new database. No values, so whoever looks into a start at DEBUG sees them.
    logging.getLogger("alembic").setLevel(
        logging.NOTSET if root <= logging.DEBUG else logging.WARNING
    )
    for name, what in _RETOLD.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _KindOnly) for f in logger.filters):
            logger.addFilter(_KindOnly(what))
