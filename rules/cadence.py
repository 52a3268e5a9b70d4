"""The reminder cadence: a pure function from a case's state, the policy and ``now`` to
what should happen and when to look at the case again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from rules.policy import Policy, Stage
from rules.sending_window import next_allowed


class CaseStatus(StrEnum):
    OPEN = "open"  # the cadence runs
    PAUSED = "paused"  # waiting: until paused_until, or until the next import
    ESCALATED = "escalated"  # in the consultant queue; the bot stays quiet
    CLOSED = "closed"


@dataclass(frozen=True)
class CaseState:
    status: CaseStatus
    stage: int  # number of stages already sent
    opened_at: datetime
    last_stage_at: datetime | None = None
    paused_until: datetime | None = None
    # The tenant's reminders in the last seven days, for the weekly contact limit.
    recent_reminders: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class SendStage:
    index: int
    stage: Stage


@dataclass(frozen=True)
class Escalate:
    reason: str


Action = SendStage | Escalate


@dataclass(frozen=True)
class Decision:
    action: Action | None
    next_action_at: datetime | None  # None: nothing more for the cadence to do
    resume: bool = False  # a timed pause has ended


def _active(state: CaseState, now: datetime) -> bool:
    if state.status is CaseStatus.OPEN:
        return True
    return (
        state.status is CaseStatus.PAUSED
        and state.paused_until is not None
        and state.paused_until <= now
    )


def _next_moment(state: CaseState, policy: Policy, now: datetime) -> tuple[datetime, Action]:
    """When the next step of an active case falls due, and what it is."""
    base = state.last_stage_at or state.opened_at
    if state.stage < len(policy.stages):
        stage = policy.stages[state.stage]
        due = max(base + timedelta(days=stage.after_days), now)
        moment = next_allowed(due, policy.sending, policy.tz, state.recent_reminders)
        return moment, SendStage(state.stage, stage)
    # Escalation reaches a consultant, not the tenant: no sending window applies.
    due = base + timedelta(days=policy.escalation.silent_days)
    return max(due, now), Escalate("no_reply")


def decide(state: CaseState, policy: Policy, now: datetime) -> Decision:
    if not _active(state, now):
        waiting = state.paused_until if state.status is CaseStatus.PAUSED else None
        return Decision(None, waiting)
    resume = state.status is CaseStatus.PAUSED
    moment, action = _next_moment(state, policy, now)
    if moment > now:
        return Decision(None, moment, resume)
    if isinstance(action, Escalate):
        return Decision(action, None, resume)
    after = replace(
        state,
        status=CaseStatus.OPEN,
        stage=state.stage + 1,
        last_stage_at=now,
        recent_reminders=(*state.recent_reminders, now),
    )
    following, _ = _next_moment(after, policy, now)
    return Decision(action, following, resume)


def first_action_at(opened_at: datetime, policy: Policy) -> datetime:
    """When a freshly opened case should first be looked at."""
    state = CaseState(CaseStatus.OPEN, 0, opened_at)
    moment, _ = _next_moment(state, policy, opened_at)
    return moment
