"""STOP and START: a contact point leaves or comes back. Either holds at once, whoever
writes: stopping needs no proof of who the writer is."""

from __future__ import annotations

from handlers.conversation.turn import Talk
from rules.intents import Intent
from storage import cases as case_ops


async def switch(talk: Talk, intent: Intent, *, confirm: bool) -> None:
    """Opt the contact point out (STOP) or back in (START). `confirm`: False when several
    tenants share this address and another one's answer already confirms it."""
    point, case, turn = talk.point, talk.case, talk.turn
    stop = intent is Intent.STOP
    was_out = point.opted_out_at is not None
    point.opted_out_at = (point.opted_out_at or turn.now) if stop else None
    if case is not None:
        case_ops.add_event(
            turn.session,
            case.id,
            "opted_out" if stop else "opted_in",
            turn.now,
            "tenant",
            channel=point.channel,
            message_id=talk.message_id,
        )
    # Confirm once, on the channel they left or came back on, when it changed anything,
    # unless the provider already did.
    changed = not was_out if stop else was_out
    if confirm and changed and not turn.provider_confirms:
        await talk.answer("optout_confirm" if stop else "optin_confirm")
