"""Answering a caller that waits for a group's write: once, and without leaving an error
unretrieved when the caller stopped waiting (a cancelled send, a webhook that gave up)."""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


def settle(future: asyncio.Future[T], value: T, error: Exception | None = None) -> None:
    """Give ``future`` its ``value``, or ``error`` when there is one; a settled one stays."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
        future.exception()  # retrieved: a caller that is no longer waiting is no error
    else:
        future.set_result(value)
