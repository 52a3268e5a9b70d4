"""Channel adapters: one send protocol and one inbound type for every channel."""

from messaging.channels.base import (
    ChannelAdapter,
    InboundMessage,
    OutboundMessage,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
)

__all__ = [
    "ChannelAdapter",
    "InboundMessage",
    "OutboundMessage",
    "PermanentSendError",
    "SendError",
    "SendResult",
    "TransientSendError",
]
