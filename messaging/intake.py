"""What the webhooks are given: where a verified request goes once it is read.

The webhooks (``twilio_webhooks``, ``telegram_bot``) check who is calling and turn the
request into a value; what happens to that value is a use case, above this layer. The
composition root hands them an ``Intake`` that does it (``bot.webhook_wiring``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from messaging.channels.base import InboundMessage, SendError


@dataclass(frozen=True)
class Receipt:
    """A provider's later word on a message we handed it (a delivery status callback)."""

    channels: tuple[str, ...]  # where the provider id may be (Twilio: sms or whatsapp)
    provider_id: str
    status: str  # queued, sending, sent, delivered, read or failed
    error: SendError | None = None


class Intake(Protocol):
    """The root's side of the webhooks. Read at each request: settings and the clock may
    change while the app runs (the live demo swaps the clock)."""

    @property
    def public_base_url(self) -> str | None:
        """The URL Twilio signs (a TLS proxy changes the one a request arrives on)."""
        ...

    @property
    def max_wait(self) -> float:
        """Seconds a webhook may wait for the database before asking to be called again."""
        ...

    def now(self) -> datetime: ...

    async def accept(self, inbound: InboundMessage) -> object:
        """Store a tenant's message for the workers; raises ``messaging.inbox.InboxBusy``."""
        ...

    async def record_receipt(self, receipt: Receipt) -> object:
        """Apply a delivery status to the message it is about."""
        ...

    async def link(self, channel: str, token: str, address: str) -> object:
        """A chat opened a deep link: tie it to the token's tenant (or say the link is bad)."""
        ...
