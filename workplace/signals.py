"""Municipal early signals: which cases are ready, and exporting a batch as DDAS JSON and as
CSV. The rule is rules.early_signal; this module reads the facts and writes the record."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from rules.cadence import CaseStatus
from rules.early_signal import ObjectionMark, SignalFacts, blockers, ddas_item, whole_euros
from rules.policy import Policy, SignalRules
from storage import cases as case_ops
from storage.models import (
    Case,
    CaseEvent,
    Message,
    MunicipalSignal,
    SignalBatch,
    Tenant,
    User,
)
from workplace import formats, objections, words
from workplace.dossier import months_in_arrears
from workplace.words import Vocabulary

CSV_COLUMNS = (
    "signaal_id",
    "naam",
    "postcode",
    "huisnummer",
    "toevoeging",
    "woonplaats",
    "gemeente",
    "telefoon",
    "email",
    "bedrag_euro",
    "maanden_achterstand",
    "achterstand_sinds",
    "warme_overdracht",
    "crisis",
    "signaaldatum",
)


@dataclass(frozen=True)
class Candidate:
    case: Case
    tenant: Tenant
    blockers: list[str]
    warm: bool
    crisis: bool
    objection: ObjectionMark | None = None  # the one that stands

    @property
    def ready(self) -> bool:
        return not self.blockers


def criteria(rules: SignalRules, t: Callable[[str], str], language: str = "nl") -> list[str]:
    """The rule of rules.early_signal.blockers in words, as the signals page explains it."""
    return [
        t("De huurder heeft nog een achterstand en is niet eerder gemeld."),
        t("De achterstand bestaat minstens {days} dagen.").format(days=rules.min_arrears_days),
        t(
            "De schriftelijke herinnering is verstuurd. Daarin bieden we aan de gegevens door "
            "te geven aan de gemeente."
        ),
        t(
            "Iemand van ons heeft geprobeerd de huurder persoonlijk te bereiken, en dat "
            "vastgelegd als {modes}."
        ).format(
            modes=_either(
                [Vocabulary(language).mode_label(m) for m in rules.personal_contact_modes], t
            ),
        ),
        t("De huurder heeft geen bezwaar gemaakt tegen de melding."),
    ]


# Why a case may not be signalled yet (the codes of rules.early_signal.blockers), each with
# what happens next. The short label (workplace.labels) opens each sentence.
REASONS = {
    "no_arrears": "Geen achterstand: er valt niets te melden.",
    "already_signalled": "Al gemeld: een zaak wordt maar één keer gemeld.",
    "objection": (
        "Bezwaar tegen melding: de huurder wil niet dat wij de gemeente inlichten ({how} "
        "gemaakt op {when})."
    ),
    "no_written_reminder": (
        "Nog geen schriftelijke herinnering: die gaat eerst, met het aanbod om de gegevens "
        "door te geven aan de gemeente."
    ),
    "arrears_too_recent": "Achterstand nog te kort: melden kan vanaf {date}.",
    "no_personal_contact_attempt": (
        "Nog geen persoonlijke contactpoging: probeer de huurder te bereiken en leg het "
        "vast bij de zaak als {modes}."
    ),
}


def reasons(
    candidate: Candidate,
    rules: SignalRules,
    t: Callable[[str], str],
    language: str,
    tz: tzinfo,
) -> list[str]:
    """Why this case is not ready yet, in sentences in `t`'s language (`language`); the
    day an objection was made as it was in `tz`."""
    may_from = candidate.case.arrears_since + timedelta(days=rules.min_arrears_days)
    objection = candidate.objection
    return [
        t(REASONS[code]).format(
            date=formats.day(may_from, language),
            modes=_either(
                [Vocabulary(language).mode_label(m) for m in rules.personal_contact_modes], t
            ),
            how=words.word(words.OBJECTION_WAYS, objection.how if objection else "", language),
            when=formats.day(objection.at.astimezone(tz).date(), language) if objection else "",
        )
        if code in REASONS
        else code
        for code in candidate.blockers
    ]


def _either(modes: Sequence[str], t: Callable[[str], str]) -> str:
    """The contact modes as the contact form offers them ("Telefoon of Huisbezoek",
    "Phone or Home visit")."""
    if len(modes) < 2:
        return "".join(modes)
    return f"{', '.join(modes[:-1])} {t('of')} {modes[-1]}"


async def candidates(
    session: AsyncSession, policy: Policy, today: date, case_ids: Sequence[int] | None = None
) -> list[Candidate]:
    """Every case with arrears and no signal yet, with what still stands in the way. Given
    `case_ids` (an export), the tenants' contact points are loaded too, for the CSV, and
    the cases are locked: an objection being recorded (which locks its case) is then either
    in before the facts are read here, or comes after the signal."""
    tenant_load = selectinload(Case.tenant)
    if case_ids is not None:
        tenant_load = tenant_load.selectinload(Tenant.contact_points)
    query = (
        select(Case)
        .where(
            Case.status != CaseStatus.CLOSED,
            Case.balance_cents > 0,
            Case.id.not_in(select(MunicipalSignal.case_id)),
        )
        .options(tenant_load)
        .order_by(Case.arrears_since, Case.id)
    )
    if case_ids is not None:
        query = query.where(Case.id.in_(list(case_ids))).with_for_update(of=Case)
    found = list(await session.scalars(query))
    ids = [case.id for case in found]
    if not ids:
        return []
    written_templates = [stage.template for stage in policy.stages if stage.written]
    written = set(
        await session.scalars(
            select(Message.case_id).where(
                Message.case_id.in_(ids),
                Message.template.in_(written_templates),
                Message.status.in_(["sent", "delivered", "read"]),
            )
        )
    )
    events = list(
        await session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id.in_(ids),
                CaseEvent.kind.in_(
                    [*objections.KINDS, "contact_logged", "escalated", "reply_received"]
                ),
            )
        )
    )
    objection = objections.standing_by_case(
        events, await objections.message_channels(session, events)
    )
    modes: dict[int, set[str]] = {}
    warm = {e.case_id for e in events if e.kind == "reply_received"}
    crisis = {
        e.case_id for e in events if e.kind == "escalated" and e.data.get("reason") == "crisis"
    }
    for event in events:
        if event.kind == "contact_logged":
            modes.setdefault(event.case_id, set()).add(str(event.data.get("mode")))
            if event.data.get("reached"):
                warm.add(event.case_id)
    result = []
    for case in found:
        facts = SignalFacts(
            balance_cents=case.balance_cents,
            arrears_since=case.arrears_since,
            written_reminder_sent=case.id in written,
            objection=case.id in objection,
            personal_contact_modes=frozenset(modes.get(case.id, set())),
            closed=case.status == CaseStatus.CLOSED,
            already_signalled=False,
        )
        result.append(
            Candidate(
                case=case,
                tenant=case.tenant,
                blockers=blockers(facts, policy.signal, today),
                warm=case.id in warm,
                crisis=case.id in crisis,
                objection=objection.get(case.id),
            )
        )
    return result


def _csv_row(candidate: Candidate, signal_id: str, today: date) -> dict[str, Any]:
    tenant, case = candidate.tenant, candidate.case
    live = [p for p in tenant.contact_points if p.retired_at is None and p.opted_out_at is None]
    phone = next((p.address for p in live if p.channel in ("sms", "whatsapp")), "")
    email = next((p.address for p in live if p.channel == "email"), "")
    return {
        "signaal_id": signal_id,
        "naam": tenant.name,
        "postcode": (tenant.postcode or "").replace(" ", "").upper(),
        "huisnummer": tenant.house_number or "",
        "toevoeging": tenant.house_number_suffix or "",
        "woonplaats": tenant.city or "",
        "gemeente": tenant.municipality or "",
        "telefoon": phone,
        "email": email,
        "bedrag_euro": whole_euros(case.balance_cents),
        "maanden_achterstand": months_in_arrears(case.balance_cents, tenant.monthly_rent_cents),
        "achterstand_sinds": case.arrears_since.isoformat(),
        "warme_overdracht": "ja" if candidate.warm else "nee",
        "crisis": "ja" if candidate.crisis else "nee",
        "signaaldatum": today.isoformat(),
    }


async def export(
    session: AsyncSession,
    policy: Policy,
    case_ids: Sequence[int],
    user: User,
    now: datetime,
) -> SignalBatch:
    """Record a batch of signals for the cases given that are ready now (the rule is checked
    again here: an objection that came in meanwhile still blocks)."""
    today = now.astimezone(policy.tz).date()
    ready = [c for c in await candidates(session, policy, today, case_ids) if c.ready]
    if not ready:
        raise ValueError("none of the chosen cases may be signalled now")
    batch = SignalBatch(created_at=now, created_by=user.username, count=len(ready))
    session.add(batch)
    await session.flush()
    for candidate in ready:
        case, tenant = candidate.case, candidate.tenant
        signal_id = f"huur-{case.id}"
        item = ddas_item(
            signal_id=signal_id,
            balance_cents=case.balance_cents,
            arrears_since=case.arrears_since,
            today=today,
            postcode=tenant.postcode,
            house_number=tenant.house_number,
            house_number_suffix=tenant.house_number_suffix,
            warm=candidate.warm,
            crisis=candidate.crisis,
        )
        session.add(
            MunicipalSignal(
                case_id=case.id,
                batch_id=batch.id,
                municipality=tenant.municipality,
                amount_euros=whole_euros(case.balance_cents),
                months_in_arrears=months_in_arrears(case.balance_cents, tenant.monthly_rent_cents),
                warm=candidate.warm,
                item=item,
                row=_csv_row(candidate, signal_id, today),
                created_at=now,
            )
        )
        case_ops.add_event(
            session,
            case.id,
            "signalled",
            now,
            user.username,
            batch_id=batch.id,
            warm=candidate.warm,
        )
    return batch


async def batch_signals(session: AsyncSession, batch_id: int) -> list[MunicipalSignal]:
    return list(
        await session.scalars(
            select(MunicipalSignal)
            .where(MunicipalSignal.batch_id == batch_id)
            .order_by(MunicipalSignal.id)
        )
    )


# A cell a spreadsheet would run as a formula: =, +, -, @ (and tab or CR before them).
_FORMULA = re.compile(r"[=+\-@\t\r]")
# … unless it is only a number or a phone number ("+31612345678"), which is harmless.
_NUMBER = re.compile(r"[+-]?[0-9][0-9 .,]*")


def _cell(value: Any) -> Any:
    """A text a spreadsheet shows as text: a leading apostrophe stops a formula (a tenant's
    name or a municipality written as '=HYPERLINK(…)' comes from outside)."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def as_csv(signals: Sequence[MunicipalSignal]) -> str:
    """Semicolon-separated with a header, as Dutch spreadsheets open it."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for signal in signals:
        writer.writerow({column: _cell(signal.row.get(column, "")) for column in CSV_COLUMNS})
    return out.getvalue()


def as_json(signals: Sequence[MunicipalSignal]) -> dict[str, Any]:
    return {"vroegsignalen": [signal.item for signal in signals]}
