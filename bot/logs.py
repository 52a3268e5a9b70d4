"""Logging for the processes: our own lines carry ids and counts only, and the libraries that
would print values (SQL rows and parameters, provider payloads) are kept above DEBUG and INFO,
at every level an operator may choose."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# aiohttp's access log without the client's address, user agent or referrer.
ACCESS_LOG_FORMAT = '"%r" %s %b %Tfs'

# Each of these logs values at INFO or DEBUG: SQLAlchemy statements with their result rows,
# aiosqlite every call with its arguments, twilio every request's URL (a phone number when
# it looks one up), APScheduler a line per run (noise, not data).
_LOUD = ("sqlalchemy", "aiosqlite", "twilio", "apscheduler")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
    quiet_libraries()


def quiet_libraries() -> None:
    for name in _LOUD:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
