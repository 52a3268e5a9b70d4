"""What consultants read: every event the code writes as a sentence in Dutch and English,
templates and codes as words, local times, waits in days and hours, Dutch postcodes and
phone numbers, a plan's real state, the reasons an action gives. Pure: no database."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from storage.models import PaymentPlan
from workplace import formats, problems, words
from workplace.dossier import BalanceChange, balance_changes
from workplace.labels import ENGLISH, translator
from workplace.plan_state import plan_state
from workplace.timeline_words import SENTENCES, Say, describe, message_title

ROOT = Path(__file__).resolve().parent.parent
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NBSP = "\u00a0"

# What a page may never show a person: key=value pairs, ISO moments and dates, Python's
# own spelling of lists and values, and codes written with underscores.
CODE_LIKE = re.compile(
    r"\w=\S|\d{4}-\d{2}-\d{2}|\[|\]|\{|\}|\bTrue\b|\bFalse\b|\bNone\b|\b[a-z]+_[a-z_]+\b"
)
# An amount in Dutch notation ("€ 650,00"), wrong on an English page.
DUTCH_AMOUNT = re.compile(r"€[\s\u00a0]?\d{1,3}(?:\.\d{3})*,\d\d")


def written_events() -> tuple[dict[str, set[str]], list[str]]:
    """Every event kind the code writes, with the data keys written with it, read from the
    source: ``add_event(session, case_id, KIND, now, …)``, the importer's and promises'
    ``event(case_id, KIND, …)``, and ``escalate(…)`` (an "escalated" event). F-strings
    come back as regular expressions."""
    kinds: dict[str, set[str]] = defaultdict(set)
    patterns: list[str] = []
    for folder in ("bot", "handlers", "messaging", "storage", "workplace"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = getattr(func, "attr", None) or getattr(func, "id", None)
                keys = {keyword.arg for keyword in node.keywords if keyword.arg}
                if name == "escalate":
                    kinds["escalated"] |= keys - {"actor"}
                    continue
                position = {"add_event": 2, "event": 1}.get(str(name))
                if position is None or len(node.args) <= position:
                    continue

                def kinds_of(
                    expr: ast.expr, path: Path = path, line: int = node.lineno
                ) -> set[str]:
                    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
                        return {expr.value}
                    if isinstance(expr, ast.IfExp):
                        return kinds_of(expr.body, path, line) | kinds_of(expr.orelse, path, line)
                    if isinstance(expr, ast.JoinedStr):
                        patterns.append(
                            "".join(
                                re.escape(part.value)
                                if isinstance(part, ast.Constant)
                                else r"[a-z_]+"
                                for part in expr.values
                            )
                        )
                        return set()
                    raise AssertionError(
                        f"{path}:{line}: an event kind this test cannot read: "
                        f"{ast.unparse(expr)}; write it as a string"
                    )

                for kind in kinds_of(node.args[position]):
                    kinds[kind] |= keys
    return kinds, patterns


# A value like the real one for every data key the code writes (the test below fails on a
# new key until it is here, so that its sentence is checked with it).
SAMPLES: dict[str, Any] = {
    "amount_cents": 2000,
    "answer": "yes",
    "arrears_since": "2026-12-01",
    "as_of": "2026-12-03",
    "at": "2026-12-11T18:30:00+00:00",
    "attempt": 2,
    "balance_cents": 52500,
    "batch_id": 3,
    "channel": "whatsapp",
    "consent": "telefonisch, 1 december",
    "error": "the provider reported the message failed",
    "feedback": "plan_in_place",
    "first_due": "2027-01-01",
    "from_channel": "whatsapp",
    "handover_id": 1,
    "helper": "administrator",
    "how": "phone",
    "instalment": 2,
    "intent": "plan",
    "message_id": 7,
    "misses": 2,
    "mode": "Huisbezoek",
    "months": 27,
    "new_message_id": 8,
    "note": "Wacht op de toeslag",
    "outcome": "Gesproken; wil 30 per maand",
    "part_of_day": "Avond",
    "partner": "Schuldhulp van de gemeente",
    "partner_kind": "debt_help",
    "plan_id": 1,
    "previous_cents": 65000,
    "priority": 64,
    "reached": True,
    "reason": "plan_request",
    "reasons": ["below_minimum_instalment", "too_many_months"],
    "retry_at": "2026-12-23T07:20:27.7152+00:00",
    "situations": ["job_loss", "debts"],
    "stage": "friendly",
    "text": "Belt volgende week terug",
    "to_channel": "sms",
    "total_cents": 52500,
    "until": "2026-12-23T07:20:27.7152+00:00",
    "warm": True,
}
# The reasons each kind is written with, where `reason` means something else.
REASONS = {
    "closed": "paid",
    "close_held": "contact_promised",
    "paused": "plan_dialogue",
    "resumed": "pause ended",
    "resolved": "moved",
}


def test_every_event_kind_the_code_writes_has_a_sentence() -> None:
    kinds, patterns = written_events()
    assert len(kinds) > 30, "the scan found too little; has add_event been renamed?"
    missing = sorted(kind for kind in kinds if kind not in SENTENCES)
    assert not missing, f"no sentence for {missing} in workplace/timeline_words.py"
    for pattern in patterns:
        assert any(re.fullmatch(pattern, kind) for kind in SENTENCES), pattern
    assert {"message_delivered", "message_read"} <= set(SENTENCES)  # f"message_{status}"
    unknown_keys = sorted({key for keys in kinds.values() for key in keys} - set(SAMPLES))
    assert not unknown_keys, f"add a sample for {unknown_keys}"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_sentence_reads_as_words_with_all_its_data(language: str) -> None:
    kinds, _ = written_events()
    say = Say(language, AMSTERDAM, {7: "reminder_friendly"})
    for kind in sorted(set(kinds) | set(SENTENCES)):
        data = {**SAMPLES, "reason": REASONS.get(kind, SAMPLES["reason"])}
        for shown in (data, {}):  # with every key, and with none (older rows)
            sentence = describe(kind, shown, say)
            assert sentence and not CODE_LIKE.search(sentence), (kind, sentence)
            if language == "en":
                assert not DUTCH_AMOUNT.search(sentence), (kind, sentence)
    assert describe("something_new", {"x": 1}, say) == "Something new"


def test_sentences_say_what_happened_in_the_consultants_language() -> None:
    dutch, english = Say("nl", AMSTERDAM, {7: "reminder_friendly"}), Say("en", AMSTERDAM)
    assert describe("opened", {"balance_cents": 52500}, dutch) == (
        f"Zaak geopend na import: achterstand €{NBSP}525,00"
    )
    assert describe("message_sent", {"channel": "whatsapp", "message_id": 7}, dutch) == (
        "Herinnering (vriendelijk) verstuurd via WhatsApp"
    )
    # 07:20 UTC on 23 December is 08:20 in Amsterdam: still the 23rd; just after midnight
    # UTC late in the evening before is the next day in Amsterdam.
    until = {"reason": "consultant", "until": "2026-12-23T07:20:27.7152+00:00"}
    assert describe("paused", until, dutch) == "Gepauzeerd tot 23 december 2026: door een consulent"
    late = {"until": "2026-12-22T23:30:00+00:00"}
    assert describe("paused", late, english) == "Paused until 23 December 2026"
    assert describe("channel_off", {"channel": "whatsapp", "stage": "friendly"}, dutch) == (
        "Niet bereikbaar via WhatsApp: dat kanaal staat uit"
    )
    proposal = {"reasons": ["below_minimum_instalment"], "amount_cents": 2000, "months": 27}
    assert "Voorstel valt buiten de regels: termijn lager dan het minimum" in describe(
        "plan_proposed", proposal, dutch
    )
    assert describe("contact_logged", {"reached": False, "mode": "Telefoon"}, english) == (
        "Contact logged: phone, not reached"
    )
    assert describe("opened", {"balance_cents": 65000}, english) == (
        "Case opened from the import: arrears €650.00"
    )
    # A partner named by what it is reads in English; an organisation's own name does not.
    handed = {"partner": "Schuldhulp van de gemeente", "partner_kind": "debt_help"}
    assert describe("handed_over", handed, english) == (
        "Handed over to Municipal debt help (debt help)"
    )
    assert describe("handed_over", handed, dutch).startswith(
        "Warm overgedragen aan Schuldhulp van de gemeente"
    )
    assert describe("handed_over", {"partner": "Humanitas Meppel"}, english) == (
        "Handed over to Humanitas Meppel"
    )


@pytest.mark.parametrize(
    ("name", "english"),
    [
        ("Schuldhulp van de gemeente", "Municipal debt help"),
        ("  schuldhulpverlening   Gemeente ", "Municipal debt assistance"),
        ("Welzijnsorganisatie", "Welfare organisation"),
        ("Schuldhulpmaatje Meppel", "Schuldhulpmaatje Meppel"),  # a proper name stays
    ],
)
def test_a_partner_described_rather_than_named_reads_in_english(name: str, english: str) -> None:
    assert words.partner(name, "en") == english
    assert words.partner(name, "nl") == name.strip()


def test_templates_and_intents_are_words() -> None:
    names = sorted(
        path.name.removesuffix(".txt.j2")
        for path in (ROOT / "messaging/templates/nl").glob("*.txt.j2")
        if not path.name.startswith("_")
    )
    for name in names:
        for language in ("nl", "en"):
            text = words.template(name, language)
            assert text and not CODE_LIKE.search(text), (name, language)
    assert words.template("reminder_friendly", "nl") == "Herinnering: vriendelijk"
    assert words.template("reply_help", "nl") == "Antwoord: hulp"
    assert words.template("reminder_final_notice", "en") == "Reminder: final notice"
    assert message_title("in", None, "help", "nl") == "Bericht van de huurder: vraagt om hulp"
    assert message_title("out", "reply_help", None, "en") == "Answer: help"
    for code in ("queued", "sending", "sent", "delivered", "read", "failed", "received"):
        assert words.status(code, "nl") != code
    assert words.status("sent", "nl") == "verstuurd" and words.status("sent", "en") == "sent"
    assert words.actor("tenant", "nl") == "huurder" and words.actor("marieke", "nl") == "marieke"


@pytest.mark.parametrize(
    ("hours", "dutch", "english"),
    [
        (0.4, "minder dan een uur", "less than an hour"),
        (1.2, "1 uur", "1 hour"),
        (5.9, "5 uur", "5 hours"),
        (24, "1 dag", "1 day"),
        (72.5, "3 dagen", "3 days"),
        (51, "2 dagen en 3 uur", "2 days and 3 hours"),
        (2182, "90 dagen en 22 uur", "90 days and 22 hours"),
    ],
)
def test_a_wait_is_days_and_hours(hours: float, dutch: str, english: str) -> None:
    assert formats.waiting(hours, "nl") == dutch
    assert formats.waiting(hours, "en") == english


def test_postcodes_phone_numbers_and_addresses() -> None:
    assert formats.postcode("7941uq") == f"7941{NBSP}UQ"
    assert formats.postcode("7941 UQ") == f"7941{NBSP}UQ"
    assert formats.postcode("B-1000") == "B-1000"  # not Dutch: as it was given
    assert formats.phone("+31612345678") == f"06{NBSP}12345678"
    assert formats.phone("+31201234567") == f"020{NBSP}123{NBSP}4567"
    assert formats.phone("+4915112345678").startswith("+49")
    assert formats.contact_address("email", "anna@example.nl") == "anna@example.nl"
    tenant = {"street": "Kerkstraat", "house_number": "12", "house_number_suffix": "a"}
    tenant |= {"postcode": "7941uq", "city": "Meppel"}
    assert formats.address(tenant, "nl") == f"Kerkstraat 12a, 7941{NBSP}UQ Meppel"
    no_street = {**tenant, "street": None, "city": None, "municipality": "Meppel"}
    assert formats.address(no_street, "nl") == f"huisnummer 12a, 7941{NBSP}UQ Meppel"
    assert formats.euros(123456, "nl") == f"€{NBSP}1.234,56"


@pytest.mark.parametrize(
    ("cents", "dutch", "english"),
    [
        (65000, "€ 650,00", "€650.00"),
        (123456789, "€ 1.234.567,89", "€1,234,567.89"),
        (-10000, "-€ 100,00", "-€100.00"),  # the minus before the sign in both
        (5, "€ 0,05", "€0.05"),
    ],
)
def test_amounts_in_the_readers_notation(cents: int, dutch: str, english: str) -> None:
    assert formats.euros(cents, "nl") == dutch.replace(" ", NBSP)
    assert formats.euros(cents, "en") == english
    # What the dossier keeps (always Dutch, plain spaces) reads the same way again.
    stored = f"6 × {dutch} + 1 × {dutch}"
    assert formats.amounts_in(stored, "en") == f"6 × {english} + 1 × {english}"
    assert formats.amounts_in(stored, "nl") == stored.replace("€ ", f"€{NBSP}")


def test_numbers_in_the_readers_notation() -> None:
    assert (formats.number(1234, "nl"), formats.number(1234, "en")) == ("1.234", "1,234")
    assert (formats.number(0.5, "nl"), formats.number(0.5, "en")) == ("0,5", "0.5")
    assert formats.number(2.0, "en") == "2"


def test_times_are_local_wherever_a_person_reads_them() -> None:
    # 18:59 UTC on 1 December is 19:59 in Amsterdam; stored text and datetimes alike.
    moment = datetime(2026, 12, 1, 18, 59, tzinfo=UTC)
    assert formats.local(moment, AMSTERDAM, "nl") == "01-12-2026 19:59"
    assert formats.local(moment.isoformat(), AMSTERDAM, "nl") == "01-12-2026 19:59"
    assert formats.long_day(date(2026, 12, 23), "nl") == "23 december 2026"
    # English as the British write it, day before month.
    assert formats.local(moment, AMSTERDAM, "en") == "01/12/2026 19:59"
    assert formats.local_short(moment, AMSTERDAM, "nl") == "01-12 19:59"
    assert formats.local_short(moment, AMSTERDAM, "en") == "01/12 19:59"
    assert formats.local_day(moment, AMSTERDAM, "en") == "01/12/2026"
    assert formats.day(date(2027, 2, 6), "nl") == "06-02-2027"
    assert formats.long_day(date(2026, 12, 23), "en") == "23 December 2026"


def _plan(**values: Any) -> PaymentPlan:
    base: dict[str, Any] = {
        "status": "active",
        "amount_cents": 10000,
        "months": 7,
        "total_cents": 65000,
        "first_due": date(2027, 1, 1),
        "checked_instalments": 0,
        "misses": 0,
    }
    return PaymentPlan(**(base | values))


def test_a_plan_shows_where_it_really_stands() -> None:
    assert plan_state(_plan(), "nl") == "Loopt: eerste termijn op 1 januari 2027"
    assert plan_state(_plan(checked_instalments=2), "nl") == "Loopt: 2 van 7 termijnen betaald"
    behind = _plan(checked_instalments=2, misses=1)
    assert plan_state(behind, "nl") == "Achter: 1 termijn gemist, 1 betaald"
    assert plan_state(behind, "en") == "Behind: 1 instalment missed, 1 paid"
    broken = _plan(status="broken", checked_instalments=3, misses=2)
    assert plan_state(broken, "nl") == "Niet nagekomen: 2 termijnen gemist"
    assert plan_state(_plan(status="proposed"), "en") == "Proposed: awaiting a decision"


def test_the_balance_history_keeps_only_the_changes() -> None:
    history = [
        {"date": f"2026-12-{day:02d}", "balance_cents": cents}
        for day, cents in [(1, 65000), (2, 65000), (3, 65000), (4, 52500), (5, 52500), (6, 0)]
    ]
    assert balance_changes(history) == [
        BalanceChange(date(2026, 12, 1), 65000, None),
        BalanceChange(date(2026, 12, 4), 52500, -12500),
        BalanceChange(date(2026, 12, 6), 0, -52500),
    ]


def _raised(class_name: str) -> list[ast.expr]:
    found = []
    for path in sorted((ROOT / "workplace").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None)) == class_name
                and node.args
            ):
                found.append(node.args[0])
    return found


def test_every_reason_an_action_gives_reads_in_dutch_and_english() -> None:
    reasons = _raised("ActionError") + _raised("AccountError")
    assert len(reasons) > 20
    for expr in reasons:
        if isinstance(expr, ast.Constant):
            text = str(expr.value)
        else:  # an f-string: fill its values in as a person might have typed them
            assert isinstance(expr, ast.JoinedStr), ast.unparse(expr)
            text = "".join(
                str(part.value) if isinstance(part, ast.Constant) else "'west'"
                for part in expr.values
            )
            text = text.replace("'west' characters", "12 characters")
            text = re.sub(r"^user 'west'", "user anna", text)
            text = re.sub(r"^no user 'west'", "no user anna", text)
        dutch = problems.in_language(text, "nl")
        assert dutch and dutch != text, f"no Dutch for {text!r}"
        english = translator("en")(text)
        assert english[0].isupper() and english.endswith("."), english
    unfinished = "a user name is letters and digits (and dots), at most 100"
    assert translator("en")(unfinished).endswith("at most 100 characters.")
    assert translator("nl")(unfinished).endswith("hoogstens 100 tekens.")
    assert translator("nl")("'boss' is not a valid Role") == (
        "Kies een rol: consulent of coördinator."
    )


def test_every_label_on_the_workplace_pages_has_its_english() -> None:
    label = re.compile(r"""\bt\(\s*(["'])(.+?)\1\s*\)""")
    missing = []
    for page in sorted((ROOT / "workplace/pages").glob("*.html")):
        for found in label.finditer(page.read_text("utf-8")):
            if found.group(2) not in ENGLISH:
                missing.append(f"{page.name}: {found.group(2)}")
    assert not missing, missing


@pytest.mark.parametrize(
    ("months", "amount", "total", "shown"),
    [
        (7, 6000, 41760, "6 × € 60,00 + 1 × € 57,60"),  # adds up to what the tenant was told
        (7, 6000, 42000, "7 × € 60,00"),
        (9, 5000, 41760, "8 × € 50,00 + 1 × € 17,60"),
        (1, 41760, 41760, "1 × € 417,60"),
    ],
)
def test_a_plan_reads_as_instalments_that_add_up(
    months: int, amount: int, total: int, shown: str
) -> None:
    assert formats.instalments(months, amount, total, "nl").replace("\xa0", " ") == shown
    english = formats.instalments(months, amount, total, "en")
    assert english == formats.amounts_in(shown, "en") and not DUTCH_AMOUNT.search(english)
