"""The dashboard's figures: the funnel of the cases opened in a period, and how often a
reminder led to a reply, per stage and channel."""

from __future__ import annotations

import bisect
import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case, CaseEvent, Handover, Message, MunicipalSignal, PaymentPlan

REPLY_WINDOW = timedelta(days=7)
FUNNEL_STEPS = (
    ("opened", "Geopend"),
    ("reached", "Bereikt (antwoord)"),
    ("plan_agreed", "Betaalafspraak"),
    ("plan_kept", "Afspraak nagekomen"),
    ("escalated", "Naar consulent"),
    ("handed_over", "Overgedragen"),
    ("signalled", "Gemeld bij gemeente"),
    ("paid", "Betaald"),
)


@dataclass(frozen=True)
class ReplyRate:
    stage: int
    template: str
    channel: str
    sent: int
    replied: int

    @property
    def rate(self) -> float:
        return self.replied / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    funnel: dict[str, int]
    rates: list[ReplyRate]

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "funnel": self.funnel,
            "reply_rates": [
                {
                    "stage": r.stage,
                    "template": r.template,
                    "channel": r.channel,
                    "sent": r.sent,
                    "replied": r.replied,
                    "rate": round(r.rate, 3),
                }
                for r in self.rates
            ],
        }


async def report(session: AsyncSession, start: datetime, end: datetime) -> Report:
    cohort = select(Case.id).where(Case.opened_at >= start, Case.opened_at < end)

    async def count(query: Any) -> int:
        return int(await session.scalar(query) or 0)

    def distinct_cases(column: Any, *where: Any) -> Any:
        return select(func.count(func.distinct(column))).where(column.in_(cohort), *where)

    funnel = {
        "opened": await count(select(func.count()).select_from(cohort.subquery())),
        "reached": await count(distinct_cases(Message.case_id, Message.direction == "in")),
        "plan_agreed": await count(
            distinct_cases(
                PaymentPlan.case_id, PaymentPlan.status.in_(["active", "completed", "broken"])
            )
        ),
        "plan_kept": await count(
            distinct_cases(
                PaymentPlan.case_id,
                (PaymentPlan.status == "completed")
                # an active plan counts once an instalment fell due and was paid on time
                | (
                    (PaymentPlan.status == "active")
                    & (PaymentPlan.misses == 0)
                    & (PaymentPlan.checked_instalments > 0)
                ),
            )
        ),
        "escalated": await count(distinct_cases(CaseEvent.case_id, CaseEvent.kind == "escalated")),
        "handed_over": await count(distinct_cases(Handover.case_id)),
        "signalled": await count(distinct_cases(MunicipalSignal.case_id)),
        "paid": await count(
            select(func.count()).where(Case.id.in_(cohort), Case.close_reason == "paid")
        ),
    }
    return Report(start, end, funnel, await _reply_rates(session, start, end))


async def _reply_rates(session: AsyncSession, start: datetime, end: datetime) -> list[ReplyRate]:
    reminders = list(
        await session.execute(
            select(
                Message.tenant_id,
                Message.stage,
                Message.template,
                Message.channel,
                func.coalesce(Message.sent_at, Message.created_at),
            ).where(
                Message.kind == "reminder",
                Message.direction == "out",
                Message.status.in_(["sent", "delivered", "read"]),
                Message.created_at >= start,
                Message.created_at < end,
            )
        )
    )
    tenants = {tenant_id for tenant_id, *_ in reminders}
    replies: dict[int | None, list[datetime]] = {}
    if tenants:
        for tenant_id, at in await session.execute(
            select(Message.tenant_id, Message.created_at)
            .where(
                Message.direction == "in",
                Message.tenant_id.in_(tenants),
                Message.created_at >= start,
                Message.created_at < end + REPLY_WINDOW,
            )
            .order_by(Message.created_at)
        ):
            replies.setdefault(tenant_id, []).append(at)
    totals: dict[tuple[int, str, str], list[int]] = {}
    for tenant_id, stage, template, channel, at in reminders:
        times = replies.get(tenant_id, [])
        first_after = bisect.bisect_left(times, at)
        replied = first_after < len(times) and times[first_after] <= at + REPLY_WINDOW
        entry = totals.setdefault((stage or 0, template or "", channel), [0, 0])
        entry[0] += 1
        entry[1] += int(replied)
    return [
        ReplyRate(stage, template, channel, sent, replied)
        for (stage, template, channel), (sent, replied) in sorted(totals.items())
    ]


# A label this long would run past a phone's screen; the full text stays in its tooltip.
_LABEL_CHARS = 44


def bar_chart(
    rows: list[tuple[str, int]],
    *,
    top: int | None = None,
    unit: str = "",
    number: Callable[[int], str] = str,
) -> str:
    """Horizontal bars as inline SVG. Each row has a line of its own for the label and the
    number (written by `number`: the reader's notation, workplace.formats), and the bar
    under it: a long label never runs into a bar. A bar's width is its share of `top` (by
    default the largest value) in per cent of the drawing, so bars stay proportional at any
    screen width while the text keeps its size."""
    if not rows:
        return ""
    top = max([top or 0, *(value for _, value in rows), 1])
    line = 42
    height = line * len(rows)
    summary = "; ".join(f"{label}: {number(value)}{unit}" for label, value in rows)
    parts = [
        f'<svg class="bars" role="img" aria-label="{_xml(summary)}" width="100%" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (label, value) in enumerate(rows):
        y = index * line
        short = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"
        parts.append(
            f"<g><title>{_xml(label)}: {_xml(number(value))}{unit}</title>"
            f'<text x="0" y="{y + 15}" font-size="13" fill="#1d2733">{_xml(short)}: '
            f'<tspan font-weight="600">{_xml(number(value))}{unit}</tspan></text>'
            f'<rect class="track" x="0" y="{y + 22}" width="100%" height="14" fill="#e6ecf2"/>'
            f'<rect class="bar" x="0" y="{y + 22}" width="{100 * value / top:.2f}%" '
            f'height="14" fill="#0b6e4f" data-value="{value}"/></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _xml(text: str) -> str:
    """Text for an element or a quoted attribute."""
    return html.escape(text, quote=True)
