"""The sandbox: the embedded default channel. Nothing leaves the machine; the messages are
already in the database and the /sandbox page shows them as the tenant's phone would."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from messaging.channels.base import OutboundMessage, SendError, SendResult

FailureRule = Callable[[OutboundMessage], SendError | None]


class SandboxChannel:
    def __init__(self, failure_rules: list[FailureRule] | None = None) -> None:
        # Rules let the demo and tests play a provider that refuses some messages.
        self.failure_rules = list(failure_rules or [])
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> SendResult:
        for rule in self.failure_rules:
            error = rule(message)
            if error is not None:
                raise error
        self.sent.append(message)
        return SendResult(provider_id=f"sbx-{uuid.uuid4().hex}")

    async def close(self) -> None:
        return None
