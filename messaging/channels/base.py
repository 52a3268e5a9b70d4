"""The channel contract.

Provider errors are translated at the adapter into one of two kinds::

    SendError
    ├── TransientSendError   try the same channel again later (retry_after if the provider said)
    └── PermanentSendError   this channel will not work for this message: fall back to the next;
                             ``unreachable``: the address can never be reached here;
                             ``opted_out``: the tenant opted out at the provider
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
    # What WhatsApp needs outside its 24-hour window: an approved template and its values.
    template: str | None = None
    language: str = "nl"
    variables: dict[str, str] = field(default_factory=dict)
    session_open: bool = False  # the tenant wrote to us on this address within 24 hours


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
    def __init__(
        self,
        detail: str,
        code: str | None = None,
        unreachable: bool = False,
        opted_out: bool = False,
    ):
        super().__init__(detail, code)
        self.unreachable = unreachable
        self.opted_out = opted_out  # the provider holds an opt-out: mirror it


class ChannelAdapter(Protocol):
    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def close(self) -> None: ...
