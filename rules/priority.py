"""How urgent an escalated case is: a pure score, higher first in the consultant queue."""

from __future__ import annotations

_BASE = {
    "crisis": 100,
    "help": 80,
    "dispute": 60,
    "plan_request": 60,
    "plan_broken": 60,
    "callback": 55,
    "handover_no_contact": 55,
    "unreachable": 50,
    "no_reply": 40,
    "question": 35,
    "objection": 35,
    "unknown_reply": 30,
}


def escalation_priority(reason: str, balance_cents: int, monthly_rent_cents: int) -> int:
    """Reason first; then up to 20 points for arrears of up to four months' rent."""
    months = balance_cents / monthly_rent_cents if monthly_rent_cents > 0 else 0
    return _BASE.get(reason, 30) + min(20, int(months * 5))
