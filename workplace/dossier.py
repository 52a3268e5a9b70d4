"""The handover dossier and the eviction-prevention record: everything the corporation did
and knows, in the national vocabulary for contact attempts. Pure: loaded rows in, plain
dicts out, so the same content serves JSON, the printable page and the municipal signal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from messaging.render import format_euros
from storage.models import Case, CaseEvent, ContactPoint, Message, PaymentPlan, Tenant
from workplace import objections, sending
from workplace.actions import part_of_day
from workplace.formats import instalments
from workplace.queries import contact_point_json

# Our channels in the national vocabulary (DDAS EnumContactsoort).
CONTACT_KIND = {
    "whatsapp": "SMS/Whatsapp",
    "sms": "SMS/Whatsapp",
    "telegram": "SMS/Whatsapp",
    "email": "Mail",
    "letter": "Brief",
}
# The dossier is handed over as written for a Dutch chain partner; pages show its amounts
# in the reader's language (workplace.formats.amounts_in).
DOSSIER_LANGUAGE = "nl"


@dataclass(frozen=True)
class ContactAttempt:
    at: datetime
    soort: str  # Telefoon, Huisbezoek, SMS/Whatsapp, Mail, Brief, …
    reached: bool | None  # None: we do not know (sent, no receipt, no answer)
    dagdeel: str  # Ochtend, Middag, Avond
    by: str  # "bot" or the consultant's user name
    channel: str | None
    what: str  # the template, or the consultant's outcome note

    @property
    def bereikt(self) -> bool:
        """The national field is yes or no: "yes" only where we know it."""
        return self.reached is True

    def ddas(self, tz: ZoneInfo) -> dict[str, Any]:
        return {
            "soort": self.soort,
            "bereikt": self.bereikt,
            "datum": self.at.astimezone(tz).date().isoformat(),
            "dagdeel": self.dagdeel,
        }

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {
            **self.ddas(tz),
            "reached": self.reached,
            "at": self.at.isoformat(),
            "by": self.by,
            "channel": self.channel,
            "what": self.what,
        }


def contact_attempts(
    messages: Sequence[Message], events: Sequence[CaseEvent], tz: ZoneInfo
) -> list[ContactAttempt]:
    """Every attempt to reach the tenant, the bot's messages, the consultants' own messages
    and their calls and visits alike, in date order. A message counts from the moment it
    went (or failed), not when it was queued; one still in the outbox is no attempt yet."""
    went = sending.moments(messages, events)
    # Who wrote a consultant's message: the event that queued it names them.
    writers = {
        event.data.get("message_id"): event.actor
        for event in events
        if event.kind == "consultant_reply"
    }
    replies = sorted(m.created_at for m in messages if m.direction == "in")
    attempts = []
    for message in messages:
        if message.direction != "out" or message.status not in (*sending.SENT, "failed"):
            continue
        at = went.get(message.id) or message.created_at
        consultant = message.template == "consultant_reply"
        attempts.append(
            ContactAttempt(
                at=at,
                soort=CONTACT_KIND.get(message.channel, "Overige"),
                reached=sending.reached(message, at, replies),
                dagdeel=part_of_day(at.astimezone(tz).hour),
                by=writers.get(message.id, "consultant") if consultant else "bot",
                channel=message.channel,
                what=message.template or message.kind,
            )
        )
    for event in events:
        if event.kind != "contact_logged":
            continue
        at = datetime.fromisoformat(str(event.data.get("at") or event.at.isoformat()))
        attempts.append(
            ContactAttempt(
                at=at,
                soort=str(event.data.get("mode", "Overige")),
                reached=bool(event.data.get("reached")),
                dagdeel=str(event.data.get("part_of_day") or part_of_day(at.astimezone(tz).hour)),
                by=event.actor,
                channel=None,
                what=str(event.data.get("outcome", "")),
            )
        )
    attempts.sort(key=lambda attempt: attempt.at)
    return attempts


@dataclass(frozen=True)
class BalanceChange:
    day: date
    balance_cents: int
    change_cents: int | None  # None: the first row, where the history starts


def balance_changes(history: Sequence[Mapping[str, Any]]) -> list[BalanceChange]:
    """The days the balance moved, with how much: a daily list repeats the same balance for
    weeks, and the reader wants the moments something happened."""
    changes: list[BalanceChange] = []
    for row in history:
        cents = int(row["balance_cents"])
        if changes and changes[-1].balance_cents == cents:
            continue
        previous = changes[-1].balance_cents if changes else None
        day = date.fromisoformat(str(row["date"]))
        changes.append(BalanceChange(day, cents, None if previous is None else cents - previous))
    return changes


def months_in_arrears(balance_cents: int, monthly_rent_cents: int) -> int:
    """How many months of rent the balance is, rounded up; at least one when anything is
    owed."""
    if balance_cents <= 0:
        return 0
    if monthly_rent_cents <= 0:
        return 1
    return max(1, -(-balance_cents // monthly_rent_cents))


def _open_offers(plans: Sequence[PaymentPlan], events: Sequence[CaseEvent]) -> list[dict[str, Any]]:
    """Plans the bot showed the tenant that never became a plan: they did not say yes."""
    made = {(plan.amount_cents, plan.months) for plan in plans}
    return [
        {
            "at": event.at.isoformat(),
            "amount": format_euros(int(event.data.get("amount_cents", 0))),
            "months": event.data.get("months"),
            "total": format_euros(int(event.data.get("total_cents", 0))),
            "instalments": instalments(
                int(event.data.get("months", 1)),
                int(event.data.get("amount_cents", 0)),
                event.data.get("total_cents"),
                DOSSIER_LANGUAGE,
            ),
        }
        for event in events
        if event.kind == "plan_offered"
        and (event.data.get("amount_cents"), event.data.get("months")) not in made
    ]


def build_dossier(
    *,
    case: Case,
    tenant: Tenant,
    points: Sequence[ContactPoint],
    snapshots: Sequence[tuple[date, int]],
    plans: Sequence[PaymentPlan],
    messages: Sequence[Message],
    events: Sequence[CaseEvent],
    corporation: str,
    tz: ZoneInfo,
    now: datetime,
) -> dict[str, Any]:
    """What a chain partner needs to start without redoing the corporation's work."""
    attempts = contact_attempts(messages, events, tz)
    objected = objections.dossier_part(events, messages)
    return {
        "generated_at": now.isoformat(),
        "corporation": corporation,
        "tenant": {
            "ref": tenant.external_ref,
            "name": tenant.name,
            "language": tenant.language,
            "address": {
                "street": tenant.street,
                "postcode": tenant.postcode,
                "house_number": tenant.house_number,
                "house_number_suffix": tenant.house_number_suffix,
                "city": tenant.city,
                "municipality": tenant.municipality,
            },
            "monthly_rent": format_euros(tenant.monthly_rent_cents),
            "administrator": tenant.administrator,
            "in_debt_assistance": tenant.debt_assistance,
            "contact_points": [
                contact_point_json(point) for point in points if point.retired_at is None
            ],
        },
        "arrears": {
            "balance": format_euros(case.balance_cents),
            "balance_cents": case.balance_cents,
            "since": case.arrears_since.isoformat(),
            "months_in_arrears": months_in_arrears(case.balance_cents, tenant.monthly_rent_cents),
            # What a reader weighs: half a month's rent is not a month's (the count above is
            # rounded up, as the municipal signal counts).
            "months_of_rent": (
                round(case.balance_cents / tenant.monthly_rent_cents, 1)
                if tenant.monthly_rent_cents > 0
                else None
            ),
            "history": [
                {"date": day.isoformat(), "balance_cents": cents} for day, cents in snapshots
            ],
        },
        "contact_attempts": [attempt.as_json(tz) for attempt in attempts],
        "plans": [
            {
                "status": plan.status,
                "amount": format_euros(plan.amount_cents),
                "months": plan.months,
                "total": format_euros(plan.total_cents),
                "instalments": instalments(
                    plan.months, plan.amount_cents, plan.total_cents, DOSSIER_LANGUAGE
                ),
                "first_due": plan.first_due.isoformat(),
                "proposed_by": plan.source,
                "decided_by": plan.decided_by,
                "instalments_checked": plan.checked_instalments,
                "instalments_missed": plan.misses,
            }
            for plan in plans
        ],
        "plan_offers_not_confirmed": _open_offers(plans, events),
        # Every objection to the municipal signal heard, and withdrawn, from any channel.
        "objections_to_signal": objected["history"],
        "tenant_words": [
            {"at": m.created_at.isoformat(), "channel": m.channel, "text": m.body}
            for m in messages
            if m.direction == "in"
        ],
        "case": {
            "id": case.id,
            "opened_at": case.opened_at.isoformat(),
            "status": case.status,
            "escalation_reason": case.escalation_reason,
            "objection_to_signal": objected["standing"],  # the latest word counts
        },
    }
