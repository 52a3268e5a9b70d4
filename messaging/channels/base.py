"""The channel contract.

Provider errors are translated at the adapter into one of two kinds::

    SendError
    ├── TransientSendError   try the same channel again later (retry_after if the provider said)
    └── PermanentSendError   this channel will not work for this message: fall back to the next;
                             ``unreachable`` means the address can never be reached here
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    channel: str
    address: str
    body: str
    subject: str | None = None


@dataclass(frozen=True)
class SendResult:
    provider_id: str


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    address: str
    text: str
    provider_id: str
    received_at: datetime
    extra: dict[str, str] = field(default_factory=dict)


class SendError(Exception):
    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class TransientSendError(SendError):
    def __init__(self, detail: str, code: str | None = None, retry_after: float | None = None):
        super().__init__(detail, code)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    def __init__(self, detail: str, code: str | None = None, unreachable: bool = False):
        super().__init__(detail, code)
        self.unreachable = unreachable


class ChannelAdapter(Protocol):
    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def close(self) -> None: ...
