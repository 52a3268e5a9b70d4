"""The reply parser: every intent, its details, and any input at all."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import intents as bench
from bench.intents import TARGET, load_corpus, report, score
from rules.intents import Intent, assisted_by, parse_reply

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "intent", "amount"),
    [
        ("hulp", Intent.HELP, None),
        ("HULP!!", Intent.HELP, None),
        ("Ik heb hulp nodig 🙏", Intent.HELP, None),
        ("I need help", Intent.HELP, None),
        ("2", Intent.HELP, None),
        ("betaald", Intent.PAID, None),
        ("Ik heb het gisteren betaald", Intent.PAID, None),
        ("I paid yesterday", Intent.PAID, None),
        ("3", Intent.PAID, None),
        ("betalingsregling graag", Intent.PLAN, None),
        ("Ik kan 50 euro per maand betalen", Intent.PLAN, 5000),
        ("€ 62,50 p/m", Intent.PLAN, 6250),
        ("75,-", Intent.PLAN, 7500),
        ("100 euro p/m", Intent.PLAN, 10000),
        ("Can I pay 40 a month?", Intent.PLAN, 4000),
        ("1", Intent.PLAN, None),
        ("STOP", Intent.STOP, None),
        ("stoppen", Intent.STOP, None),
        ("Afmelden", Intent.STOP, None),
        ("unsubscribe", Intent.STOP, None),
        ("start", Intent.START, None),
        ("Het bedrag klopt niet", Intent.DISPUTE, None),
        ("Kunt u mij terugbellen?", Intent.CALLBACK, None),
        ("BEZWAAR", Intent.OBJECTION, None),
        ("Hoeveel moet ik betalen?", Intent.QUESTION, None),
        ("", Intent.UNKNOWN, None),
        ("👍", Intent.UNKNOWN, None),
        ("ok", Intent.UNKNOWN, None),
    ],
)
def test_intents(text: str, intent: Intent, amount: int | None) -> None:
    reply = parse_reply(text, TODAY)
    assert reply.intent is intent
    assert reply.amount_cents == amount


# Messages as tenants write them: greetings, typos, emoji, half sentences, both languages.
@pytest.mark.parametrize(
    ("text", "intent", "amount", "months", "pay_date"),
    [
        (
            "Goedemorgen, ik kan helaas niet alles in 1x betalen. Kan ik een regeling treffen?",
            "plan",
            None,
            None,
            None,
        ),
        ("kan ik het in 3 termijnen betalen", "plan", None, 3, None),
        ("Mag ik in 4 delen betalen?", "plan", None, 4, None),
        ("ik betaal vrijdag 27-11 het hele bedrag", "plan", None, None, "2026-11-27"),
        (
            "Ik betaal het de 1e van de maand als mijn salaris binnen is",
            "plan",
            None,
            None,
            "2026-12-01",
        ),
        ("ik kan €40 per maand missen", "plan", 4000, None, None),
        ("Ik kan 25 euro in de maand extra betalen", "plan", 2500, None, None),
        ("Is 30,- per maand goed?", "plan", 3000, None, None),
        ("I can pay €75 per month for 6 months", "plan", 7500, 6, None),
        ("Could I pay in instalments?", "plan", None, None, None),
        ("can i spread the payment over 5 months", "plan", None, 5, None),
        ("i will pay next week", "plan", None, None, "2026-12-02"),
        ("Betalingsregeling aub", "plan", None, None, None),
        ("Betalingsregelingg", "plan", None, None, None),
        ("betaalafsprak maken", "plan", None, None, None),
        ("Is al overgemaakt 👍", "paid", None, None, None),
        ("Heb net betaald via ideal", "paid", None, None, None),
        ("Het is vanochtend overgemaakt", "paid", None, None, None),
        ("Ik heb alles betaald gisteren", "paid", None, None, None),
        ("Already paid it this morning", "paid", None, None, None),
        ("I have transferred the money", "paid", None, None, None),
        ("Ik zit in de schuldsanering", "help", None, None, None),
        (
            "Ik ben mijn werk kwijt geraakt en weet niet hoe ik het moet betalen",
            "help",
            None,
            None,
            None,
        ),
        ("Mijn man is overleden, ik red het niet", "help", None, None, None),
        ("ik ben ziek en heb geen inkomen", "help", None, None, None),
        ("Ik heb een bewindvoerder, neem contact op met hem", "help", None, None, None),
        ("I lost my job", "help", None, None, None),
        ("I am in debt counselling", "help", None, None, None),
        ("Ik heb geen geld meer voor eten", "help", None, None, None),
        ("Dit klopt niet, ik heb geen achterstand", "dispute", None, None, None),
        ("Dat bedrag is onjuist, de huurtoeslag is nog niet verwerkt", "dispute", None, None, None),
        ("This amount is wrong", "dispute", None, None, None),
        ("I don't owe anything", "dispute", None, None, None),
        ("Wilt u mij bellen?", "callback", None, None, None),
        ("bel me aub even terug", "callback", None, None, None),
        ("Please call me", "callback", None, None, None),
        ("Can someone phone me tomorrow?", "callback", None, None, None),
        ("Ik wil niet dat mijn gegevens naar de gemeente gaan", "objection", None, None, None),
        ("Ik maak bezwaar tegen het delen van mijn gegevens", "objection", None, None, None),
        ("I object to sharing my details with the municipality", "objection", None, None, None),
        ("STOP", "stop", None, None, None),
        ("Stop!", "stop", None, None, None),
        ("stop alstublieft", "stop", None, None, None),
        ("START", "start", None, None, None),
        ("Wie is dit?", "question", None, None, None),
        ("Waarom krijg ik dit bericht?", "question", None, None, None),
        ("Wat is het rekeningnummer?", "question", None, None, None),
        ("Hoeveel moet ik nog betalen", "question", None, None, None),
        ("Who is this?", "question", None, None, None),
        ("What is the IBAN?", "question", None, None, None),
        ("why am i getting this", "question", None, None, None),
        ("Oké", "unknown", None, None, None),
        ("Bedankt", "unknown", None, None, None),
        ("🙏🙏", "unknown", None, None, None),
        ("   ", "unknown", None, None, None),
        ("asdfgh", "unknown", None, None, None),
        ("1.", "plan", None, None, None),
        ("2️⃣", "help", None, None, None),
        (" 3 ", "paid", None, None, None),
        ("€1.250", "plan", 125000, None, None),
    ],
)
def test_real_messages(
    text: str, intent: str, amount: int | None, months: int | None, pay_date: str | None
) -> None:
    reply = parse_reply(text, TODAY)
    found = (reply.intent.value, reply.amount_cents, reply.months, reply.pay_date)
    assert found == (intent, amount, months, date.fromisoformat(pay_date) if pay_date else None)


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("Morgen komt de deurwaarder voor de ontruiming", True),
        ("Ik heb geen geld meer voor eten voor de kinderen", True),
        ("I have no money for food", True),
        ("ik wil niet meer leven", True),
        ("Ik heb hulp nodig met mijn schulden", False),
        ("Ik kan 50 euro per maand", False),
    ],
)
def test_crisis_words(text: str, crisis: bool) -> None:
    reply = parse_reply(text, TODAY)
    assert reply.crisis is crisis
    assert (reply.intent is Intent.HELP) or not crisis


def test_a_postcode_or_a_day_is_not_an_amount() -> None:
    assert parse_reply("1234 AB 5", TODAY).amount_cents is None
    assert parse_reply("wij wonen op 3011 AB 12, ik kan 40 euro", TODAY).amount_cents == 4000
    assert parse_reply("ik betaal de 1e van de maand", TODAY).amount_cents is None
    assert parse_reply("50 pm", TODAY).amount_cents == 5000


def test_months_and_dates() -> None:
    reply = parse_reply("ik betaal 100 euro per maand, 6 maanden", TODAY)
    assert (reply.intent, reply.amount_cents, reply.months) == (Intent.PLAN, 10000, 6)
    promise = parse_reply("ik betaal volgende week", TODAY)
    assert promise.intent is Intent.PLAN
    assert promise.pay_date == date(2026, 12, 2)
    assert parse_reply("ik betaal op 3-12", TODAY).pay_date == date(2026, 12, 3)


def test_a_huge_number_or_a_long_message_is_read_without_error() -> None:
    # Python refuses to turn more than 4,300 digits into an int; the parser must not ask it.
    assert parse_reply("1" * 5000, TODAY).amount_cents is None
    assert parse_reply("honderd " * 2000, TODAY).amount_cents is None
    long = parse_reply("ik kan 50 euro per maand " + "bla " * 25_000, TODAY)
    assert (long.intent, long.amount_cents) == (Intent.PLAN, 5000)


@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    reply = parse_reply(text, TODAY)
    assert reply.intent in Intent


def test_the_labelled_corpus_is_read_well_enough() -> None:
    """tests/data/intents_corpus.jsonl: real tenant messages, intent and fields together."""
    examples = load_corpus()
    assert len(examples) >= 300
    result = score(examples)
    assert result.accuracy >= TARGET, report(result, Path("intents_corpus.jsonl"))


# Issue 11: the menu digit was taken as the amount, and a consultant saw "184 × € 1,00".
@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1 - 50 per maand?", 5000),
        ("1, 50 per maand", 5000),
        ("1. 50 euro per maand", 5000),
        ("1 ik kan 25 per maand", 2500),
        ("ik wil 1 betaalafspraak", None),
        ("1 betalingsregeling aub", None),
        ("ik wil graag 1 regeling maken", None),
        ("optie 1", None),
        ("ik kan 1e400 per maand", None),  # which number was meant? Ask, do not guess
        ("1,50 per maand", 150),  # no space: one euro fifty, as written
    ],
)
def test_a_menu_digit_is_never_the_amount(text: str, amount: int | None) -> None:
    reply = parse_reply(text, TODAY)
    assert (reply.intent, reply.amount_cents) == (Intent.PLAN, amount)


@settings(max_examples=200)
@given(
    st.sampled_from(["1", "2", "3"]),
    st.sampled_from([" ", ", ", " - ", ". ", ": ", ") ", " -> "]),
    st.integers(min_value=10, max_value=999),
    st.sampled_from(["per maand", "euro per maand", "p/m", "a month", "per maand?"]),
)
def test_the_amount_after_a_menu_digit_is_the_amount(
    digit: str, separator: str, euros: int, period: str
) -> None:
    reply = parse_reply(f"{digit}{separator}{euros} {period}", TODAY)
    assert (reply.intent, reply.amount_cents) == (Intent.PLAN, euros * 100)


@pytest.mark.parametrize(
    ("text", "amount", "months"),
    [
        ("20 euro per week", 8667, None),  # × 52 / 12, to the cent
        ("om de week 40 euro", 8667, None),  # every other week: × 26 / 12
        ("ik kan 100 euro per 4 weken", 10833, None),  # × 13 / 12
        ("ik kan vijftig euro per maand", 5000, None),
        ("honderdvijftig per maand", 15000, None),
        ("I can pay twenty five euros a month", 2500, None),
        ("a hundred euros per month is possible", 10000, None),
        ("ik kan het in drie maanden betalen", None, 3),
        ("een half jaar de tijd?", None, 6),
        ("ik kan de 450 in 3 maanden betalen", 15000, 3),  # a total over the months
        ("500 euro in 3 maanden", 16667, 3),  # rounded up: three instalments cover it
        ("ik wil in 10 termijnen van 30 euro", 3000, 10),  # each instalment
        ("drie keer 200 euro", 20000, 3),
        ("ik kan 40 à 50 euro per maand", 4000, None),  # the lower end
        ("ik heb een achterstand van 650 euro, ik kan 50 per maand", 5000, None),
        ("ik woon op nummer 12 en kan 40 per maand betalen", 4000, None),
    ],
)
def test_amounts_are_per_month(text: str, amount: int | None, months: int | None) -> None:
    reply = parse_reply(text, TODAY)
    assert (reply.intent, reply.amount_cents, reply.months) == (Intent.PLAN, amount, months)


@pytest.mark.parametrize(
    ("text", "intent", "pay_date"),
    [
        ("ik betaal vrijdag", Intent.PLAN, date(2026, 11, 27)),  # today is a Wednesday
        ("volgende week vrijdag betaal ik", Intent.PLAN, date(2026, 12, 4)),
        ("op de 24e krijg ik salaris dan maak ik het over", Intent.PLAN, date(2026, 12, 24)),
        ("ik betaal op 15 december", Intent.PLAN, date(2026, 12, 15)),
        ("over 2 weken krijg ik loon dan betaal ik", Intent.PLAN, date(2026, 12, 9)),
        ("eind van de maand betaal ik", Intent.PLAN, date(2026, 11, 30)),
        ("binnen 2 weken is het betaald", Intent.PLAN, date(2026, 12, 9)),
        ("I get paid on the 28th, I'll pay then", Intent.PLAN, date(2026, 11, 28)),
        # Said of a payment made: paid, whatever day it names.
        ("ik heb op 20-11 betaald", Intent.PAID, None),
        ("ik heb vrijdag betaald", Intent.PAID, None),
    ],
)
def test_dates_promised_and_dates_paid(text: str, intent: Intent, pay_date: date | None) -> None:
    reply = parse_reply(text, TODAY)
    assert (reply.intent, reply.pay_date) == (intent, pay_date)


@pytest.mark.parametrize(
    ("text", "intent", "assisted"),
    [
        ("ik zit al bij de schuldhulp", Intent.HELP, True),
        ("mijn bewindvoerder regelt dat", Intent.HELP, True),
        ("ik sta op de wachtlijst bij schuldhulp", Intent.HELP, True),
        ("mijn bewindvoerder heeft het gisteren betaald", Intent.PAID, True),
        ("ik wil schuldhulp", Intent.HELP, False),  # asks for it: not in it yet
        ("hoe kom ik bij de schuldhulp?", Intent.HELP, False),
    ],
)
def test_already_in_debt_assistance(text: str, intent: Intent, assisted: bool) -> None:
    reply = parse_reply(text, TODAY)
    assert (reply.intent, reply.assisted) == (intent, assisted)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Ik ben mijn baan kwijt maar ik kan wel 20 euro per maand betalen", Intent.PLAN),
        ("ik heb hulp nodig, ik kan maar 10 euro per maand", Intent.HELP),  # asks for a person
        ("ik kan 50 per maand, kunt u mij bellen?", Intent.CALLBACK),
        ("dat klopt niet, ik heb al betaald", Intent.DISPUTE),
        ("ik krijg wekelijks betaald, kan ik 30 per week doen?", Intent.PLAN),  # wages
        ("wanneer moet het betaald zijn?", Intent.QUESTION),
        ("ik ben gestopt met werken door een burn-out", Intent.HELP),  # not a STOP
        ("ik ben net bevallen en heb het zwaar", Intent.HELP),  # not "bezwaar" by typo
        ("Ik heb zojuist het volledige bedrag overgemaakt", Intent.PAID),  # not "onjuist"
    ],
)
def test_which_meaning_wins(text: str, intent: Intent) -> None:
    assert parse_reply(text, TODAY).intent is intent


def test_the_held_out_set_is_loaded_and_the_bench_prints_both_figures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """tests/data/intents_heldout.jsonl: messages written apart from the parser's word lists.
    Its figure is reported, not required: the target is asserted on the tuned corpus only."""
    held_out = load_corpus(bench.HELDOUT)
    assert len(held_out) >= 200
    tuned = {example.text.strip().lower() for example in load_corpus()}
    assert not [e.text for e in held_out if e.text.strip().lower() in tuned], "not new"
    assert bench.HELDOUT_FIRST[1] == len(held_out)  # the first figure is of this very set
    monkeypatch.setattr(sys, "argv", ["bench.intents"])
    bench.main()
    printed = capsys.readouterr().out
    summary = printed[printed.index("Reply parser, every set:") :]
    assert "intents_corpus.jsonl" in printed and "intents_heldout.jsonl" in printed
    (tuned_line,) = [line for line in summary.splitlines() if "tuned corpus" in line]
    (held_line,) = [line for line in summary.splitlines() if "held-out" in line]
    for line in (tuned_line, held_line):
        assert "%" in line and f"target {TARGET:.0%}" in line
    assert "first measured 82.2% (221/269) blind" in held_line
    (unseen_line,) = [line for line in summary.splitlines() if "unseen batch 2" in line]
    assert "first measured 89.9% (71/79) blind" in unseen_line
    assert bench.UNSEEN2_FIRST[1] == len(load_corpus(bench.UNSEEN2))


@pytest.mark.parametrize(
    "text",
    [
        "ik wil niet meer, het hoeft niet meer",
        "het leven hoeft niet meer voor mij",
        "ik kan nt meer ik wil dood",
        "I can't go on anymore, I want to end it",
        "i dont want to live anymore",
    ],
)
def test_a_tenant_who_does_not_want_to_go_on_is_a_crisis(text: str) -> None:
    assert parse_reply(text, date(2026, 11, 25)).crisis


# Issue 11, from what a held-out set showed the parser missed: each a kind of wording, here
# in sentences of its own (none of them in either labelled set).
@pytest.mark.parametrize(
    ("text", "intent", "amount", "pay_date"),
    [
        # A typo keeps its first and last letter: real words are not "corrected" into keywords.
        ("heel vervelend dit", Intent.UNKNOWN, None, None),  # not "verdelen"
        ("zo spoedig mogelijk betaal ik", Intent.PLAN, None, None),  # not "moeilijk"
        # An amount before a little word is no postcode ("1500 IN").
        ("ik kan 1500 in 1 keer betalen", Intent.PLAN, 150000, None),
        ("een vijfje per week", Intent.PLAN, 2167, None),
        ("eind vd maand betaal ik", Intent.PLAN, None, date(2026, 11, 30)),
        ("end of month i will pay", Intent.PLAN, None, date(2026, 11, 30)),
        ("vrijdg betaal ik", Intent.PLAN, None, date(2026, 11, 27)),  # a day misspelt
        ("mogen wij het in delen betalen", Intent.PLAN, None, None),  # "mogen" is no "morgen"
        # A day to answer on, with no word of paying, is no promise.
        ("ik laat het maandag weten", Intent.UNKNOWN, None, None),
        ("ik reageer vrijdag", Intent.UNKNOWN, None, None),
        ("ik heb 50 overgemaakt, de rest volgt maandag", Intent.PLAN, None, date(2026, 11, 30)),
        ("ik stuur het geld morgen", Intent.PLAN, None, date(2026, 11, 26)),
        ("kan het in gedeeltes", Intent.PLAN, None, None),
        # What rules.situations hears is hard times too.
        ("mijn vader is gestorven", Intent.HELP, None, None),
        ("ik heb kanker", Intent.HELP, None, None),
        ("ik ben mijn werk kwijtgeraakt", Intent.HELP, None, None),
        ("ik ben helemaal blut", Intent.HELP, None, None),
        ("laat de gemeente erbuiten aub", Intent.OBJECTION, None, None),
        ("please don't tell the council", Intent.OBJECTION, None, None),
        ("schrijf me uit", Intent.STOP, None, None),
        ("leave me alone", Intent.STOP, None, None),
        ("jullie mogen weer appen", Intent.START, None, None),
        ("heb het over geboekt", Intent.PAID, None, None),
        ("de huur is afgeschreven", Intent.PAID, None, None),
        ("wanneer wordt het afgeschreven?", Intent.QUESTION, None, None),
        ("ik heb het huurcontract opgezegd", Intent.DISPUTE, None, None),
        ("mijn contract is opgezegd", Intent.HELP, None, None),  # the job, not the home
        ("mijn man mag het niet weten", Intent.UNKNOWN, None, None),  # no objection
        ("u heeft het verkeerde adres", Intent.DISPUTE, None, None),
        ("dat bedrag is veel te veel", Intent.DISPUTE, None, None),
        ("kan ik een gesprek krijgen", Intent.CALLBACK, None, None),
        ("wat betekent deze brief", Intent.QUESTION, None, None),
        ("who sent this", Intent.QUESTION, None, None),
    ],
)
def test_kinds_of_wording_a_held_out_set_showed_missing(
    text: str, intent: Intent, amount: int | None, pay_date: date | None
) -> None:
    reply = parse_reply(text, TODAY)
    assert (reply.intent, reply.amount_cents, reply.pay_date) == (intent, amount, pay_date)


@pytest.mark.parametrize(
    "text",
    [
        "we zitten al een week zonder stroom",
        "ik heb honger",
        "mijn man mishandelt mij",
        "ik denk aan zelfdoding",
    ],
)
def test_danger_at_home_is_a_crisis(text: str) -> None:
    reply = parse_reply(text, TODAY)
    assert (reply.intent, reply.crisis) == (Intent.HELP, True)


@pytest.mark.parametrize(
    ("text", "helper"),
    [
        ("mijn bewindvoerster regelt dat", "administrator"),
        ("mijn bewinvoerder heeft het geld", "administrator"),  # a typo forgiven
        ("ik heb budgetbeheer bij de kredietbank", "budget_management"),
        ("ik zit in een minnelijk traject", "debt_help"),
        ("mijn schuldhulpverlener heeft het betaald", "debt_help"),
        ("mijn maatschappelijk werker helpt mij", "other"),
        ("ik heb een bewindvoerder nodig", None),  # wanted, not had
        ("ik wil een bewindvoerder aanvragen", None),
        ("ik wil schuldhulp", None),
        ("ik kan 50 per maand", None),
    ],
)
def test_who_already_helps(text: str, helper: str | None) -> None:
    assert assisted_by(text) == helper
    assert parse_reply(text, TODAY).assisted is (helper is not None)


@pytest.mark.parametrize(
    "text",
    [
        "Ik ben het niet eens met dat bedrag, ik heb niks achterstand",
        "dit nummer is van mij maar ik ken deze persoon niet",
    ],
)
def test_a_tenant_who_disagrees_disputes(text: str) -> None:
    assert parse_reply(text, date(2026, 11, 25)).intent is Intent.DISPUTE
