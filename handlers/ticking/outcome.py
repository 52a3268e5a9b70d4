"""What one due case's decision means in rows: the case's new columns, its events, the
stage's message and a Telegram invite. Nothing is written here (handlers/ticking/writes.py
writes a whole batch at once), so the case changes mirror storage/cases.py exactly:
``resume``, ``escalate`` and ``touch`` there, each bumping the version once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Row

from handlers.linking import new_token
from handlers.ticking.due import Batch
from messaging.outbox import Letterhead, outbound
from messaging.render import money, month_name
from messaging.routing import reachable, routes
from rules.cadence import CaseStatus, Decision, Escalate, SendStage, decide
from rules.policy import CHANNELS, Policy
from rules.priority import escalation_priority


@dataclass
class TickResult:
    cases: int = 0
    queued: int = 0
    escalated: int = 0
    by_stage: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class Invites:
    """Reminders carry a link to connect Telegram while the tenant has not."""

    link_base: str  # https://t.me/<bot>?start=
    days: int


@dataclass(frozen=True)
class Run:
    """What every case of one tick shares."""

    policy: Policy
    available: Collection[str]
    letterhead: Letterhead
    invites: Invites | None


class Decisions:
    """rules.cadence.decide, once per distinct case state and moment: the cases of one
    import share their opening time, and those sent together their last stage."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._now: datetime | None = None
        self._known: dict[tuple[tuple[Any, ...], tuple[datetime, ...]], Decision] = {}

    def __call__(self, case: Row[Any], batch: Batch, now: datetime) -> Decision:
        if now != self._now:
            self._now, self._known = now, {}
        # The state's fields as a plain tuple: a CaseState is made only for a new one.
        recent = batch.recent.get(case.tenant_id, ())
        key = (case.status, case.stage, case.opened_at, case.last_stage_at, case.paused_until)
        decision = self._known.get((key, recent))
        if decision is None:
            decision = decide(batch.state(case), self._policy, now)
            self._known[key, recent] = decision
        return decision


# Amounts and months repeat (rents are round, arrears are often a month's rent or two);
# Babel takes longer than everything else a case needs.
_money = lru_cache(maxsize=8192)(money)
_month = lru_cache(maxsize=256)(month_name)


@dataclass(frozen=True, slots=True)
class Queued:
    stage: str  # the stage's name, for its reminder_queued event
    row: dict[str, Any]  # the outbox row


@dataclass(slots=True)
class Outcome:
    case_id: int
    changes: dict[str, Any] = field(default_factory=dict)  # the case's columns to write
    events: list[dict[str, Any]] = field(default_factory=list)
    message: Queued | None = None
    token: dict[str, Any] | None = None  # the link_tokens row
    escalated: bool = False


def event(case_id: int, kind: str, now: datetime, **data: Any) -> dict[str, Any]:
    """A case_events row, as storage.cases.add_event writes it for the system."""
    return {"case_id": case_id, "at": now, "actor": "system", "kind": kind, "data": data}


def work_out(case: Row[Any], decision: Decision, batch: Batch, run: Run, now: datetime) -> Outcome:
    out = Outcome(case.id)
    if decision.resume:
        _resume(case, out, now, reason="pause ended")
    action = decision.action
    if isinstance(action, SendStage):
        if not _send(case, action, batch, run, now, out):
            return out
    elif isinstance(action, Escalate):
        _escalate(case, out, action.reason, now)
        return out
    out.changes["next_action_at"] = decision.next_action_at
    return out


def _send(
    case: Row[Any], action: SendStage, batch: Batch, run: Run, now: datetime, out: Outcome
) -> bool:
    """The stage's message; False when the tenant cannot be reached (escalated instead)."""
    stage = action.stage
    points = batch.points.get(case.tenant_id, [])
    usable = reachable(points)
    options = routes(stage.channels, usable, run.available)
    # A tenant's channel that this installation does not run is passed over, and the
    # record says so: a reminder must never count as sent where no one could read it.
    for channel in routes(stage.channels, usable, CHANNELS, exclude=run.available):
        out.events.append(
            event(case.id, "channel_off", now, stage=stage.name, channel=channel.channel)
        )
    if not options:
        _escalate(case, out, "unreachable", now, stage=stage.name)
        return False
    first = options[0]
    context = _context(case, run.letterhead, case.id in batch.planned)
    invites = run.invites
    if (
        invites is not None
        and "telegram" in run.available
        and first.channel != "telegram"
        and all(point.channel != "telegram" for point in points)
    ):
        # As handlers.linking.invite makes it.
        token = new_token()
        out.token = {
            "token": token,
            "tenant_id": case.tenant_id,
            "channel": "telegram",
            "created_at": now,
            "expires_at": now + timedelta(days=invites.days),
        }
        context["telegram_link"] = f"{invites.link_base}{token}"
    row = outbound(
        route=first,
        template=stage.template,
        language=case.language,
        context=context,
        kind="reminder",
        now=now,
        case_id=case.id,
        tenant_id=case.tenant_id,
        stage=action.index,
        # ":first" marks the stage's first channel; fallbacks get their own keys.
        idempotency_key=f"case:{case.id}:stage:{action.index}:first",
        fallback=[option.channel for option in options[1:]],
    )
    out.message = Queued(stage.name, row)
    out.changes["stage"] = action.index + 1
    out.changes["last_stage_at"] = now
    _touch(case, out)
    return True


def _context(case: Row[Any], letterhead: Letterhead, has_plan: bool) -> dict[str, Any]:
    """messaging.outbox.tenant_context for the claimed row, keys in the same order."""
    language: str = case.language
    arrears_since: date = case.arrears_since
    return {
        "corporation": letterhead.corporation,
        "phone": letterhead.phone,
        "greeting": letterhead.greeting,
        "name": case.name,
        "municipality": case.municipality,
        "balance": _money(case.balance_cents, language),
        # The subject names the month; a tenant with an agreed plan is not offered another.
        "arrears_month": _month(arrears_since, language),
        # Nor is a tenant whose money a bewindvoerder or a debt programme manages: a plan
        # goes through that helper (handlers/circumstances.py).
        "has_plan": has_plan or bool(case.administrator) or case.debt_assistance,
    }


def _touch(case: Row[Any], out: Outcome) -> None:
    out.changes["version"] = out.changes.get("version", case.version) + 1


def _resume(case: Row[Any], out: Outcome, now: datetime, reason: str) -> None:
    out.changes.update(status=CaseStatus.OPEN, pause_reason=None, paused_until=None)
    out.changes["next_action_at"] = now
    _touch(case, out)
    out.events.append(event(case.id, "resumed", now, reason=reason))


def _escalate(case: Row[Any], out: Outcome, reason: str, now: datetime, **data: Any) -> None:
    """Into the consultant queue; a case already there keeps its place unless the new
    reason is more urgent."""
    status = out.changes.get("status", case.status)
    held = out.changes.get("escalation_priority", case.escalation_priority)
    priority = escalation_priority(reason, case.balance_cents, case.monthly_rent_cents)
    if status != CaseStatus.ESCALATED or priority > (held or 0):
        out.changes["escalation_reason"] = reason
        out.changes["escalation_priority"] = priority
    if status != CaseStatus.ESCALATED:
        out.changes["escalated_at"] = now
    out.changes["status"] = CaseStatus.ESCALATED
    out.changes["next_action_at"] = None
    _touch(case, out)
    out.events.append(event(case.id, "escalated", now, reason=reason, priority=priority, **data))
    out.escalated = True
