"""The codes the system stores, as a consultant says them, in Dutch and English: channels,
message statuses and templates, reminder stages, what a tenant's reply meant, who did
something. A code not listed reads as its words ("new_thing" → "new thing"), never as
itself. Each table is code → (Dutch, English)."""

from __future__ import annotations

from dataclasses import dataclass

Words = dict[str, tuple[str, str]]

CHANNELS: Words = {
    "whatsapp": ("WhatsApp", "WhatsApp"),
    "sms": ("sms", "SMS"),
    "telegram": ("Telegram", "Telegram"),
    "email": ("e-mail", "email"),
    "letter": ("brief", "letter"),
}

MESSAGE_STATUSES: Words = {
    "queued": ("klaargezet", "queued"),
    "sending": ("wordt verstuurd", "sending"),
    "sent": ("verstuurd", "sent"),
    "delivered": ("afgeleverd", "delivered"),
    "read": ("gelezen", "read"),
    "failed": ("mislukt", "failed"),
    "pending": ("nog niet verwerkt", "not handled yet"),
    "received": ("ontvangen", "received"),
}

STAGES: Words = {
    "friendly": ("vriendelijk", "friendly"),
    "plan_offer": ("aanbod betaalafspraak", "plan offer"),
    "written": ("schriftelijk", "written"),
}

# Every template in messaging/templates/<lang>/ (tests/test_timeline_words.py checks).
TEMPLATES: Words = {
    "consultant_reply": ("Bericht van consulent", "Consultant's message"),
    "optin_confirm": ("Bevestiging: weer aangemeld", "Confirmation: signed up again"),
    "optout_confirm": ("Bevestiging: afgemeld", "Confirmation: opted out"),
    "paid_follow_up": ("Navraag: nog niet betaald", "Follow-up: not paid yet"),
    "plan_nudge": ("Herinnering: termijn betaalafspraak", "Reminder: plan instalment"),
    "plan_rejected": ("Antwoord: voorstel afgewezen", "Answer: proposal rejected"),
    "reminder_friendly": ("Herinnering: vriendelijk", "Reminder: friendly"),
    "reminder_plan_offer": ("Herinnering: aanbod betaalafspraak", "Reminder: plan offer"),
    "reminder_written": ("Herinnering: schriftelijk", "Reminder: written"),
    "reply_assisted": ("Antwoord: heeft al hulp", "Answer: already has help"),
    "reply_help": ("Antwoord: hulp", "Answer: help"),
    "reply_objection": ("Antwoord: bezwaar", "Answer: objection"),
    "reply_paid": ("Antwoord: betaald", "Answer: paid"),
    "reply_payment_details": ("Antwoord: betaalgegevens", "Answer: payment details"),
    "reply_plan_agreed": ("Antwoord: afspraak gemaakt", "Answer: plan agreed"),
    "reply_plan_ask": ("Vraag: welk bedrag per maand", "Question: how much a month"),
    "reply_plan_confirm": ("Vraag: akkoord met de afspraak?", "Question: agree to the plan?"),
    "reply_plan_received": ("Antwoord: voorstel ontvangen", "Answer: proposal received"),
    "reply_received": ("Antwoord: ontvangen", "Answer: received"),
    "reply_unknown_sender": ("Antwoord aan onbekende afzender", "Answer to an unknown sender"),
    "reply_verify_ask": ("Vraag: postcode en huisnummer", "Question: postcode and number"),
    "reply_verify_failed": ("Antwoord: gegevens kloppen niet", "Answer: details do not match"),
    "telegram_link_invalid": ("Antwoord: Telegram-link ongeldig", "Answer: Telegram link invalid"),
    "telegram_linked": ("Bevestiging: Telegram gekoppeld", "Confirmation: Telegram linked"),
    "thanks_cleared": ("Bedankt: achterstand betaald", "Thanks: arrears paid"),
}

# What a tenant's reply meant (rules/intents.py Intent).
INTENTS: Words = {
    "plan": ("wil een betaalafspraak", "wants a payment plan"),
    "paid": ("zegt betaald te hebben", "says they paid"),
    "help": ("vraagt om hulp", "asks for help"),
    "dispute": ("betwist het bedrag", "disputes the amount"),
    "callback": ("wil gebeld worden", "wants a call"),
    "objection": ("bezwaar tegen melding bij de gemeente", "objects to the municipal signal"),
    "stop": ("wil geen berichten meer", "wants no more messages"),
    "start": ("wil weer berichten", "wants messages again"),
    "question": ("stelt een vraag", "asks a question"),
    "unknown": ("niet begrepen", "not understood"),
}

ACTORS: Words = {
    "system": ("systeem", "system"),
    "import": ("import", "import"),
    "tenant": ("huurder", "tenant"),
    "bot": ("bot", "bot"),
    "policy": ("bot", "bot"),
    "consultant": ("consulent", "consultant"),
}

ROLES: Words = {
    "consultant": ("consulent", "consultant"),
    "coordinator": ("coördinator", "coordinator"),
}

PLAN_SOURCES: Words = {
    "tenant": ("voorgesteld door de huurder", "proposed by the tenant"),
    "consultant": ("voorgesteld door een consulent", "proposed by a consultant"),
    "bot": ("met de bot afgesproken", "agreed with the bot"),
}

PARTNER_KINDS: Words = {
    "debt_help": ("schuldhulp", "debt help"),
    "welfare": ("welzijn", "welfare"),
}

# Chain partners named by what they are rather than who (rules/default_policy.toml ships
# these; a corporation may write the same), keyed in lower case. An organisation's own name
# ("Schuldhulpmaatje Meppel", "Humanitas") is not listed: a proper name stays as it is in
# every language.
PARTNER_DESCRIPTIONS: Words = {
    "schuldhulp van de gemeente": ("Schuldhulp van de gemeente", "Municipal debt help"),
    "schuldhulpverlening gemeente": ("Schuldhulpverlening gemeente", "Municipal debt assistance"),
    "schuldhulpverlening van de gemeente": (
        "Schuldhulpverlening van de gemeente",
        "Municipal debt assistance",
    ),
    "welzijnsorganisatie": ("Welzijnsorganisatie", "Welfare organisation"),
    "wijkteam": ("Wijkteam", "Neighbourhood team"),
    "sociaal wijkteam": ("Sociaal wijkteam", "Neighbourhood social team"),
}

# Did a contact attempt reach the tenant: yes, no, or we do not know (workplace.sending).
REACHED: dict[bool | None, tuple[str, str]] = {
    True: ("ja", "yes"),
    False: ("nee", "no"),
    None: ("niet bekend", "not known"),
}
# An outgoing message still in the outbox, where a sent one shows when it went.
NOT_SENT_YET = ("wacht op verzending", "waiting to be sent")

# The national vocabulary for contact attempts, and the parts of the day.
CONTACT_MODES: Words = {
    "Telefoon": ("telefoon", "phone"),
    "Huisbezoek": ("huisbezoek", "home visit"),
    "SMS/Whatsapp": ("sms/WhatsApp", "text/WhatsApp"),
    "Mail": ("mail", "email"),
    "Brief": ("brief", "letter"),
    "Overige": ("overig", "other"),
}
PARTS_OF_DAY: Words = {
    "Ochtend": ("ochtend", "morning"),
    "Middag": ("middag", "afternoon"),
    "Avond": ("avond", "evening"),
}

# How a tenant objected to the municipal signal, or withdrew it (rules.early_signal), as it
# reads mid-sentence: "telefonisch gemaakt", "made by phone".
OBJECTION_WAYS: Words = {
    "phone": ("telefonisch", "by phone"),
    "email": ("per e-mail", "by email"),
    "letter": ("per brief", "by letter"),
    "door": ("aan de deur", "at the door"),
    "chat": ("in de chat", "in the chat"),
}

# Why reminders were paused (storage/cases.pause), in a sentence after "gepauzeerd".
PAUSE_REASONS: Words = {
    "paid": (
        "de huurder zegt betaald te hebben; de volgende lijst laat het zien",
        "the tenant says they paid; the next list will show it",
    ),
    "plan": ("er loopt een betaalafspraak", "a payment plan runs"),
    "plan_dialogue": (
        "wacht op antwoord over een betaalafspraak",
        "waiting for the answer about a plan",
    ),
    "question_answered": ("vraag beantwoord", "question answered"),
    "consultant": ("door een consulent", "by a consultant"),
    "handed_over": ("overgedragen aan een ketenpartner", "handed over to a chain partner"),
}
# Why they run again (storage/cases.resume and the importer write these English reasons).
RESUME_REASONS: Words = {
    "pause ended": ("de pauze is voorbij", "the pause is over"),
    "balance still open after tenant said paid": (
        "het saldo staat nog open, al zei de huurder betaald te hebben",
        "the balance is still open, though the tenant said they paid",
    ),
}
# Why a plan needs a consultant (rules/plans.outside_policy).
PLAN_RULES: Words = {
    "has_help": (
        "huurder heeft al hulp (bewindvoerder of schuldhulp)",
        "the tenant already has help (an administrator or debt help)",
    ),
    "below_minimum_instalment": ("termijn lager dan het minimum", "instalment below the minimum"),
    "too_many_months": ("meer maanden dan toegestaan", "more months than allowed"),
    "self_service_limit": (
        "dit jaar al een afspraak met de bot gemaakt",
        "already agreed a plan with the bot this year",
    ),
}


def word(table: Words, code: str | None, language: str) -> str:
    """`code` from `table` in the language; an unlisted code as plain words."""
    if not code:
        return ""
    if code in table:
        return table[code][1 if language == "en" else 0]
    return code.replace("_", " ")


def channel(code: str | None, language: str) -> str:
    return word(CHANNELS, code, language)


def status(code: str | None, language: str) -> str:
    return word(MESSAGE_STATUSES, code, language)


def actor(name: str | None, language: str) -> str:
    """A system actor in words; a consultant's user name as it is."""
    return word(ACTORS, name, language) if name in ACTORS else (name or "")


def partner(name: str | None, language: str) -> str:
    """A chain partner's name for the reader: a description in their language, an
    organisation's own name as it is."""
    text = (name or "").strip()
    found = PARTNER_DESCRIPTIONS.get(" ".join(text.split()).lower())
    if found is None or language != "en":
        return text
    return found[1]


def reached(value: bool | None, language: str) -> str:
    return REACHED[value][1 if language == "en" else 0]


def not_sent_yet(language: str) -> str:
    return NOT_SENT_YET[1 if language == "en" else 0]


def stage(name: str | None, language: str) -> str:
    return word(STAGES, name, language)


def template(name: str | None, language: str) -> str:
    """A message template as words: "Herinnering: vriendelijk". A stage the corporation
    added itself (reminder_<stage>) still reads as a reminder."""
    if not name:
        return ""
    if name in TEMPLATES:
        return word(TEMPLATES, name, language)
    if name.startswith("reminder_"):
        lead = "Reminder" if language == "en" else "Herinnering"
        return f"{lead}: {stage(name.removeprefix('reminder_'), language)}"
    return word(TEMPLATES, name, language).capitalize()


@dataclass(frozen=True)
class Vocabulary:
    """The tables above in one consultant's language, for the page templates."""

    language: str

    def channel(self, code: str | None) -> str:
        return channel(code, self.language)

    def status(self, code: str | None) -> str:
        return status(code, self.language)

    def actor(self, name: str | None) -> str:
        return actor(name, self.language)

    def template(self, name: str | None) -> str:
        return template(name, self.language)

    def role(self, code: str | None) -> str:
        return word(ROLES, code, self.language)

    def plan_source(self, code: str | None) -> str:
        return word(PLAN_SOURCES, code, self.language)

    def partner_kind(self, code: str | None) -> str:
        return word(PARTNER_KINDS, code, self.language)

    def partner(self, name: str | None) -> str:
        return partner(name, self.language)

    def reached(self, value: bool | None) -> str:
        return reached(value, self.language)

    def mode(self, code: str | None) -> str:
        return word(CONTACT_MODES, code, self.language)

    def mode_label(self, code: str | None) -> str:
        """A contact mode on its own (a column, an option): in Dutch the national
        vocabulary as written there ("SMS/Whatsapp"), in English its words."""
        if self.language != "en":
            return code or ""
        text = self.mode(code)
        return text[:1].upper() + text[1:]

    def objection_way(self, code: str | None) -> str:
        """How an objection was made, as an option in a list: "Telefonisch", "By phone"."""
        text = word(OBJECTION_WAYS, code, self.language)
        return text[:1].upper() + text[1:]

    def part_of_day(self, code: str | None) -> str:
        """Like `mode_label`: Ochtend, Middag, Avond; Morning, Afternoon, Evening."""
        if self.language != "en":
            return code or ""
        text = word(PARTS_OF_DAY, code, self.language)
        return text[:1].upper() + text[1:]

    def attempt(self, channel: str | None, what: str | None) -> str:
        """What a contact attempt was: the bot's message by its template's words, a
        consultant's call or visit by the outcome they wrote."""
        return template(what, self.language) if channel else (what or "")
