"""One call to a provider, whatever happens in it, turned into an outcome to record."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from messaging.channels.base import (
    ChannelAdapter,
    OutboundMessage,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
)

Outcome = SendResult | SendError


async def call_provider(
    channels: Mapping[str, ChannelAdapter], message: OutboundMessage, seconds: float
) -> Outcome:
    """Never raises: a slow provider, a refusal and an adapter's bug are each an outcome."""
    adapter = channels.get(message.channel)
    if adapter is None:
        return PermanentSendError(f"channel {message.channel} is not configured")
    try:
        async with asyncio.timeout(seconds):
            return await adapter.send(message)
    except SendError as error:
        return error
    except TimeoutError:
        return TransientSendError(f"no answer from the provider in {seconds:g} s")
    except Exception as error:  # an adapter bug must not lose the message: retry it
        return TransientSendError(f"{type(error).__name__}: {error}"[:300])
