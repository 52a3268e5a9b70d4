"""The webhooks' side of the runtime: the ``messaging.intake.Intake`` the root hands them.

The webhooks only verify and read a request; storing a message, applying a receipt and
linking a chat are done here, with the runtime's sessions, channels and clock.
"""

from __future__ import annotations

from datetime import datetime

from bot.runtime import Runtime
from handlers.linking import link_chat
from handlers.receipts import apply_receipt
from messaging.channels.base import InboundMessage
from messaging.intake import Receipt


class RuntimeIntake:
    """Reads the runtime at each call: tests change its settings, the live demo its clock."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    @property
    def public_base_url(self) -> str | None:
        return self._runtime.settings.public_base_url

    @property
    def max_wait(self) -> float:
        return self._runtime.settings.webhook_max_wait_seconds

    def now(self) -> datetime:
        return self._runtime.clock.now()

    async def accept(self, inbound: InboundMessage) -> int | None:
        return await self._runtime.accept(inbound)

    async def record_receipt(self, receipt: Receipt) -> bool:
        runtime = self._runtime
        return await apply_receipt(
            runtime.sessions, receipt, available=runtime.channels.keys(), now=self.now()
        )

    async def link(self, channel: str, token: str, address: str) -> bool:
        runtime = self._runtime
        return await link_chat(
            runtime.sessions,
            channel=channel,
            token=token,
            address=address,
            letterhead=runtime.letterhead,
            now=self.now(),
        )
