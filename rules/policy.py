"""The contact policy: what the corporation configures, loaded from TOML and validated."""

from __future__ import annotations

import tomllib
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Channel = Literal["whatsapp", "sms", "telegram", "email"]
CHANNELS: tuple[Channel, ...] = ("whatsapp", "sms", "telegram", "email")


class PolicyError(ValueError):
    """The policy file cannot be used; the message says why."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SendingRules(_Frozen):
    window_start: time = time(9, 0)
    window_end: time = time(20, 0)
    skip_sundays: bool = True
    skip_public_holidays: bool = True
    holiday_country: str = "NL"
    max_messages_per_7_days: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _window_not_empty(self) -> SendingRules:
        if self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        return self


class Stage(_Frozen):
    name: str
    after_days: int = Field(ge=0)
    template: str
    channels: tuple[Channel, ...] = Field(min_length=1)
    written: bool = False


class Escalation(_Frozen):
    silent_days: int = Field(default=7, ge=0)
    # Consultants aim to pick up an escalated case within this many hours; the queue shows
    # each case's age against it.
    response_target_hours: int = Field(default=48, ge=1)


class PlanRules(_Frozen):
    """What a tenant may agree with the bot alone; anything else goes to a consultant."""

    min_instalment_cents: int = Field(default=2500, ge=100)
    max_months: int = Field(default=12, ge=1, le=120)
    self_service_per_12_months: int = Field(default=1, ge=0)
    # How long a question in the chat stays open (the amount after "1", the yes to a plan
    # shown, postcode and house number) and the reminders wait for its answer.
    dialogue_days: int = Field(default=7, ge=1)
    # Days after an instalment's date before the list must show it paid.
    grace_days: int = Field(default=5, ge=0)
    # Missed instalments: the first gets a friendly nudge, this many break the plan.
    misses_to_break: int = Field(default=2, ge=1)


class HelpInfo(_Frozen):
    """Where a tenant finds help; every field may be set per municipality."""

    debt_help_name: str | None = None
    debt_help_phone: str | None = None
    debt_help_url: str | None = None
    savings_check: str | None = None
    crisis_line: str | None = None
    # The same words for a tenant who reads English; unset, the Dutch is shown (a name or a
    # number reads the same in both).
    debt_help_name_en: str | None = None
    debt_help_phone_en: str | None = None
    savings_check_en: str | None = None
    crisis_line_en: str | None = None


_TRANSLATED = ("debt_help_name", "debt_help_phone", "savings_check", "crisis_line")


class HelpPolicy(_Frozen):
    default: HelpInfo = HelpInfo(
        debt_help_name="de schuldhulp van uw gemeente",
        debt_help_phone="14 en het netnummer van uw gemeente",
        debt_help_url="https://www.geldfit.nl",
        crisis_line="113 (gratis: 0800-0113)",
        debt_help_name_en="your municipality's debt help",
        debt_help_phone_en="14 followed by your municipality's area code",
        crisis_line_en="113 (free: 0800-0113)",
    )
    municipalities: dict[str, HelpInfo] = Field(default_factory=dict)

    def for_municipality(self, name: str | None) -> HelpInfo:
        """The municipality's own entries over the defaults (names match case-insensitively)."""
        wanted = (name or "").strip().lower()
        local = next(
            (info for key, info in self.municipalities.items() if key.lower() == wanted), None
        )
        if local is None:
            return self.default
        update = local.model_dump(exclude_none=True)
        for name in _TRANSLATED:
            # A municipality's own Dutch words replace the default English ones too.
            if name in update and f"{name}_en" not in update:
                update[f"{name}_en"] = None
        return self.default.model_copy(update=update)


class Partner(_Frozen):
    """A chain partner a consultant can hand a case to (warm handover)."""

    name: str
    kind: str = "debt_help"  # "debt_help" (municipal debt-help coach), "welfare", …
    phone: str | None = None
    email: str | None = None


class PartnerPolicy(_Frozen):
    """Chain partners in the order to try them: first the municipality's debt-help coach,
    then the welfare organisation. A municipality's own list replaces the default."""

    default: tuple[Partner, ...] = (Partner(name="Schuldhulp van de gemeente", kind="debt_help"),)
    municipalities: dict[str, tuple[Partner, ...]] = Field(default_factory=dict)

    def for_municipality(self, name: str | None) -> tuple[Partner, ...]:
        wanted = (name or "").strip().lower()
        return next(
            (partners for key, partners in self.municipalities.items() if key.lower() == wanted),
            self.default,
        )


class SignalRules(_Frozen):
    """When the municipality gets an early signal (Wgs; Besluit schuldhulpverlening art. 2):
    a written reminder offering to pass the details on has gone out, the tenant did not
    object, the arrears are at least this old, and a person tried to reach the tenant."""

    min_arrears_days: int = Field(default=30, ge=0)
    personal_contact_modes: tuple[str, ...] = ("Telefoon", "Huisbezoek")


class Texts(_Frozen):
    """How the tenant's messages read."""

    # "name": "Beste Anna de Vries," / "Dear Anna de Vries,"; "neutral": "Beste huurder," /
    # "Dear tenant," (for a corporation whose records do not hold names fit to greet by).
    greeting: Literal["name", "neutral"] = "name"


class Policy(_Frozen):
    timezone: str = "Europe/Amsterdam"
    sending: SendingRules = SendingRules()
    stages: tuple[Stage, ...] = Field(min_length=1)
    escalation: Escalation = Escalation()
    plans: PlanRules = PlanRules()
    help: HelpPolicy = HelpPolicy()
    partners: PartnerPolicy = PartnerPolicy()
    texts: Texts = Texts()
    # Consultants' teams: team name → the municipalities it serves. A consultant in a team
    # sees only those; coordinators see every team.
    teams: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    def team_municipalities(self, team: str | None) -> tuple[str, ...] | None:
        """The municipalities of a team (lower case); None: no team, everything."""
        if not team:
            return None
        return tuple(name.lower() for name in self.teams.get(team, ()))

    signal: SignalRules = SignalRules()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_policy(text: str, source: str = "policy") -> Policy:
    try:
        data = tomllib.loads(text)
        return Policy.model_validate(data)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise PolicyError(f"{source}: {exc}") from exc


def load_policy(path: Path | None = None) -> Policy:
    """The policy at ``path``, or the shipped default."""
    if path is None:
        text = resources.files("rules").joinpath("default_policy.toml").read_text("utf-8")
        return parse_policy(text, "default policy")
    return parse_policy(path.read_text("utf-8"), str(path))
