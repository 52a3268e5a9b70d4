"""The pieces a case event's sentence is made of (amounts, days, moments, channels, codes,
plans, notes), in the consultant's language and time zone: `Say`, used by
workplace/timeline_words.py for every event kind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from workplace import formats, words
from workplace.labels import CODES


@dataclass(frozen=True)
class Say:
    """The language, the time zone and what each message was, for one page."""

    language: str
    tz: tzinfo
    templates: Mapping[int, str | None] = field(default_factory=dict)  # message id → template

    def __call__(self, dutch: str, english: str) -> str:
        return english if self.language == "en" else dutch

    def euros(self, cents: Any) -> str:
        return formats.euros(int(cents or 0), self.language)

    def day(self, value: Any) -> str:
        return formats.long_day(str(value), self.language) if value else ""

    def moment(self, value: Any) -> str:
        """A stored moment as a local day and time: 23 december 2026 19:30."""
        if not value:
            return ""
        local = formats.long_local_day(str(value), self.tz, self.language)
        return f"{local} {formats.clock_time(str(value), self.tz, self.language)}"

    def channel(self, data: Mapping[str, Any], key: str = "channel") -> str:
        return words.channel(data.get(key), self.language)

    def code(self, code: Any) -> str:
        """A stored code (a reason, a feedback) in lower case, as it reads mid-sentence."""
        text = str(code or "")
        found = CODES[text][1 if self.language == "en" else 0] if text in CODES else text
        found = found.replace("_", " ")
        return found[:1].lower() + found[1:]

    def what(self, data: Mapping[str, Any]) -> str:
        """The message an event is about: "Herinnering (vriendelijk)", else "Bericht"."""
        name = self.templates.get(data.get("message_id") or 0)
        if not name:
            return self("Bericht", "Message")
        text = words.template(name, self.language)
        lead, colon, rest = text.partition(": ")
        return f"{lead} ({rest})" if colon else text

    def plan(self, data: Mapping[str, Any]) -> str:
        """6 × € 87,50 (€ 525,00) vanaf 1 januari 2027."""
        months, amount = data.get("months"), data.get("amount_cents")
        if isinstance(months, int) and isinstance(amount, int):
            text = formats.instalments(months, amount, data.get("total_cents"), self.language)
        else:
            text = f"{months or '?'} × {self.euros(amount)}"
        if data.get("total_cents"):
            text += f" ({self.euros(data['total_cents'])})"
        if data.get("first_due"):
            text += self(" vanaf ", " from ") + self.day(data["first_due"])
        return text

    def note(self, data: Mapping[str, Any], key: str = "note") -> str:
        text = str(data.get(key) or "").strip()
        return f". {self('Notitie', 'Note')}: {text}" if text else ""

    def rules(self, data: Mapping[str, Any]) -> str:
        found = [words.word(words.PLAN_RULES, str(r), self.language) for r in data["reasons"]]
        return self(" en ", " and ").join(found)
