"""Small inline SVG charts, drawn on the server: no script, no external files, and they
print."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from workplace import formats
from workplace.plan_state import Instalment

_INK, _MUTED, _LINE = "#0b6e4f", "#5b6775", "#d8dee6"
_KEPT, _MISSED = "#0b6e4f", "#a33a00"


def balance_chart(
    snapshots: Sequence[tuple[date, int]],
    *,
    plan: Sequence[Instalment] = (),
    language: str = "nl",
    width: int = 560,
    height: int = 150,
) -> str:
    """The balance over time; with a plan, also the balance it should reach after each
    instalment (dashed) and a dot per instalment: paid, missed or still to come."""
    if not snapshots:
        return ""
    english = language == "en"
    pad, top_pad, bottom = 24, 18, 34
    start, last = snapshots[0][0], snapshots[-1][0]
    end = last
    if plan:
        # Show up to the first instalment still to come, not the whole plan: a year ahead
        # would squeeze the weeks that matter into a corner.
        upcoming = [item.due for item in plan if item.due > last]
        end = max(last, upcoming[0] if upcoming else plan[-1].due)
    span = max((end - start).days, 1)
    start_cents = plan[0].expected_after_cents + plan[0].amount_cents if plan else 0
    top = max(max(cents for _, cents in snapshots), start_cents, 1)

    def x(day: date) -> float:
        return pad + (width - 2 * pad) * (day - start).days / span

    def y(cents: int) -> float:
        return height - bottom - (height - bottom - top_pad) * max(cents, 0) / top

    # Steps, not slopes: a balance holds until the next list shows another.
    steps_taken: list[str] = []
    for index, (day, cents) in enumerate(snapshots):
        if index:
            steps_taken.append(f"{x(day):.1f},{y(snapshots[index - 1][1]):.1f}")
        steps_taken.append(f"{x(day):.1f},{y(cents):.1f}")
    actual = " ".join(steps_taken)
    parts = [
        f'<svg role="img" aria-label="{escape(_title(english, bool(plan)))}" '
        f'viewBox="0 0 {width} {height}" width="100%" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{pad}" y1="{height - bottom}" x2="{width - pad}" y2="{height - bottom}" '
        f'stroke="{_LINE}"/>',
    ]
    visible = [item for item in plan if start <= item.due <= end]
    if visible:
        # From the chart's left edge: the plan takes over the balance it was agreed on.
        steps, level = [f"{x(start):.1f},{y(start_cents):.1f}"], start_cents
        for item in visible:
            steps.append(f"{x(item.due):.1f},{y(level):.1f}")
            level = item.expected_after_cents
            steps.append(f"{x(item.due):.1f},{y(level):.1f}")
        steps.append(f"{x(end):.1f},{y(level):.1f}")
        parts.append(
            f'<polyline fill="none" stroke="{_MUTED}" stroke-width="1.5" '
            f'stroke-dasharray="5 4" points="{" ".join(steps)}"/>'
        )
    parts.append(f'<polyline fill="none" stroke="{_INK}" stroke-width="2" points="{actual}"/>')
    for item in visible:
        fill = {True: _KEPT, False: _MISSED, None: "#fff"}[item.kept]
        parts.append(
            f'<circle cx="{x(item.due):.1f}" cy="{y(item.expected_after_cents):.1f}" r="4" '
            f'fill="{fill}" stroke="{_MISSED if item.kept is False else _INK}">'
            f"<title>{escape(_instalment_note(item, language))}</title></circle>"
        )
    # The highest balance itself: a rounded one reads as a wrong balance.
    euros = formats.euros(top, language)
    parts += [
        _text(pad, height - bottom + 13, formats.day_month(start, language)),
        _text(width - pad, height - bottom + 13, formats.day_month(end, language), anchor="end"),
        _text(pad, 12, euros),
    ]
    if plan:
        parts.append(_text(pad, height - 4, _legend(english)))
    parts.append("</svg>")
    return "".join(parts)


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="11" fill="{_MUTED}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def _title(english: bool, with_plan: bool) -> str:
    if english:
        return "Balance" + (" and the payment plan" if with_plan else "")
    return "Saldo" + (" en de betaalafspraak" if with_plan else "")


def _legend(english: bool) -> str:
    if english:
        return "line: balance · dashes: as agreed · dot: instalment (green paid, red missed)"
    return "lijn: saldo · streepjes: volgens afspraak · stip: termijn (groen betaald, rood gemist)"


def _instalment_note(item: Instalment, language: str) -> str:
    day = formats.long_day(item.due, language)
    amount = formats.euros(item.amount_cents, language)
    if language == "en":
        state = {True: "paid", False: "missed", None: "to come"}[item.kept]
        return f"Instalment {item.number}, {day}: {amount}, {state}"
    state = {True: "betaald", False: "gemist", None: "nog te gaan"}[item.kept]
    return f"Termijn {item.number}, {day}: {amount}, {state}"
