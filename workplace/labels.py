"""The workplace speaks Dutch; English is a choice in the header. Pages write the Dutch
label and `t()` gives it in the consultant's language."""

from __future__ import annotations

from collections.abc import Callable

from workplace.problems import in_language

ENGLISH = {
    "Wachtrij": "Queue",
    "urgentie": "urgency",
    "Hoe hoger, hoe eerder aan de beurt": "The higher, the sooner it is someone's turn",
    "Uitloggen": "Log out",
    "Inloggen": "Log in",
    "Gebruikersnaam": "User name",
    "Wachtwoord": "Password",
    "Naam of wachtwoord klopt niet, of er is te vaak geprobeerd; probeer het dan later opnieuw.": (
        "Name or password is wrong, or there were too many attempts; then try again later."
    ),
    "Reden": "Reason",
    "Huurder": "Tenant",
    "Gemeente": "Municipality",
    "Saldo": "Balance",
    "Kanaal": "Channel",
    "Wacht": "Waiting",
    "Behandelaar": "Assigned to",
    "Alle": "All",
    "Van mij": "Mine",
    "Niet toegewezen": "Unassigned",
    "Filter": "Filter",
    "Oppakken": "Claim",
    "Teruggeven": "Release",
    "Openen": "Open",
    "over de streeftijd": "past the target",
    "Streeftijd": "Target",
    "uur": "hours",
    "Geen zaken in de wachtrij.": "No cases in the queue.",
    "Geen gegevens in deze periode.": "No data in this period.",
    "Zaak": "Case",
    "Contactgegevens": "Contact details",
    "Afgemeld": "Opted out",
    "Onbereikbaar": "Unreachable",
    "Gedeeld": "Shared",
    "Vervallen": "Retired",
    "Saldo-verloop": "Balance history",
    "Tijdlijn": "Timeline",
    "Gesprek": "Conversation",
    "Betaalafspraken": "Payment plans",
    "Goedkeuren": "Approve",
    "Afwijzen": "Reject",
    "Bericht aan de huurder": "Message to the tenant",
    "Versturen": "Send",
    "Contact vastleggen": "Log a contact",
    "Bereikt": "Reached",
    "Niet bereikt": "Not reached",
    "Uitkomst": "Outcome",
    "Vastleggen": "Save",
    "Herinneringen pauzeren tot": "Pause reminders until",
    "Pauzeren": "Pause",
    "Afsluiten met reden": "Resolve with a reason",
    "Afsluiten": "Resolve",
    "Notitie": "Note",
    "Datum": "Date",
    "Tijd": "Time",
    "Gebruikers": "Users",
    "Toevoegen": "Add",
    "Rol": "Role",
    "Naam": "Name",
    "Status": "Status",
    "Adres": "Address",
    "Huur": "Rent",
    "Achterstand sinds": "In arrears since",
    "Deze zaak is al opgepakt door een collega.": "A colleague has claimed this case already.",
    "Opgepakt: deze zaak is van u.": "Claimed: this case is yours.",
    "Gedaan.": "Done.",
    "Taal": "Language",
    "Dossier": "Dossier",
    "Verslag ontruimingspreventie": "Eviction-prevention record",
    "Gemeld bij de gemeente": "Signalled to the municipality",
    "Overdrachten": "Handovers",
    "toestemming": "consent",
    "Terugkoppeling": "Feedback",
    "Warme overdracht": "Warm handover",
    "De huurder geeft toestemming": "The tenant consents",
    "Hoe en wanneer": "How and when",
    "bijv. telefonisch, 2 december": "e.g. by phone, 2 December",
    "Overdragen": "Hand over",
    "Signalen": "Signals",
    "Klaar om te melden": "Ready to signal",
    "Nog niet": "Not yet",
    "Exporteren": "Export",
    "Eerdere exports": "Earlier exports",
    "Contactpogingen": "Contact attempts",
    "Soort": "Kind",
    "Dagdeel": "Part of day",
    "Door": "By",
    "Wat": "What",
    "Afdrukken": "Print",
    "Woorden van de huurder": "The tenant's own words",
    "Rapportage": "Reports",
    "Naar de inhoud": "Skip to content",
    "Bewindvoerder": "Financial administrator",
    "de bewindvoerder beheert het geld; overleg met hem of haar": (
        "the administrator manages the money; talk to them"
    ),
    "Deze huurder zit in de schuldhulp.": "This tenant is in debt assistance.",
    "Uitschakelen": "Deactivate",
    "Inschakelen": "Activate",
    "Deblokkeren": "Unlock",
    "Berichten van onbekende afzenders": "Messages from unknown senders",
    "dagen": "days",
    "Zij kregen een algemeen antwoord met ons telefoonnummer; niets over een schuld.": (
        "They got a general answer with our phone number; nothing about a debt."
    ),
    "Geopend": "Opened",
    "Bereikt (antwoord)": "Reached (replied)",
    "Betaalafspraak": "Plan agreed",
    "Afspraak nagekomen": "Plan kept",
    "Naar consulent": "Escalated",
    "Overgedragen": "Handed over",
    "Gemeld bij gemeente": "Signalled",
    "Betaald": "Paid",
    "Van": "From",
    "Tot en met": "To",
    "Tonen": "Show",
    "Trechter van de zaken geopend in deze periode": "Funnel of the cases opened in this period",
    "Antwoord op een herinnering binnen 7 dagen (%)": "Reply to a reminder within 7 days (%)",
    "Verstuurd": "Sent",
    "Beantwoord": "Replied",
    # The case page, the dossier and the record (workplace.words has the codes' words).
    "tot": "until",
    "vanaf": "from",
    "Via": "By",
    "De huurder is nu niet schriftelijk bereikbaar; bel of ga langs.": (
        "The tenant cannot be reached in writing now; call or visit."
    ),
    "in de schuldhulp": "in debt assistance",
    "maand huur": "month's rent",
    "maanden huur": "months' rent",
    "Verloop van het saldo": "How the balance changed",
    "Verschil": "Change",
    "begin": "start",
    "Getoond, niet bevestigd": "Shown, not confirmed",
    "besloten door": "decided by",
    "Opgemaakt op": "Drawn up on",
    "Bericht": "Message",
    # Roles, on the users page.
    "consulent": "consultant",
    "coördinator": "coordinator",
    # The signals page: the rule in words, and why a case waits (workplace.signals).
    "Wanneer melden we bij de gemeente?": "When do we signal the municipality?",
    "Een zaak is klaar om te melden als dit allemaal klopt:": (
        "A case is ready to signal when all of this holds:"
    ),
    "De huurder heeft nog een achterstand en is niet eerder gemeld.": (
        "The tenant is still in arrears and has not been signalled before."
    ),
    "De achterstand bestaat minstens {days} dagen.": "The arrears are at least {days} days old.",
    "De schriftelijke herinnering is verstuurd. Daarin bieden we aan de gegevens door te geven "
    "aan de gemeente.": (
        "The written reminder has gone out. It offers to pass the details on to the municipality."
    ),
    "Iemand van ons heeft geprobeerd de huurder persoonlijk te bereiken, en dat vastgelegd als "
    "{modes}.": "One of us tried to reach the tenant in person, and logged it as {modes}.",
    "De huurder heeft geen bezwaar gemaakt tegen de melding.": (
        "The tenant has not objected to the signal."
    ),
    "of": "or",
    "Geen achterstand: er valt niets te melden.": "No arrears: there is nothing to signal.",
    "Al gemeld: een zaak wordt maar één keer gemeld.": (
        "Already signalled: a case is signalled only once."
    ),
    "Bezwaar tegen melding: de huurder wil niet dat wij de gemeente inlichten ({how} "
    "gemaakt op {when}).": (
        "Objects to the signal: the tenant does not want us to inform the municipality (made "
        "{how} on {when})."
    ),
    "Nog geen schriftelijke herinnering: die gaat eerst, met het aanbod om de gegevens door te "
    "geven aan de gemeente.": (
        "No written reminder yet: it goes first, with the offer to pass the details on to the "
        "municipality."
    ),
    "Achterstand nog te kort: melden kan vanaf {date}.": (
        "Arrears too recent: the signal may go from {date}."
    ),
    "Nog geen persoonlijke contactpoging: probeer de huurder te bereiken en leg het vast bij de "
    "zaak als {modes}.": (
        "No personal contact attempt yet: try to reach the tenant and log it on the case as "
        "{modes}."
    ),
    "Huurdernummer": "Tenant ref",
    "Waarom nog niet": "Why not yet",
    "Nu geen zaken.": "No cases now.",
    "De eerste 200 staan hier.": "The first 200 are shown here.",
    "ja": "yes",
    "nee": "no",
    # The users page: a team per user, a new password set by a coordinator.
    "Gebruiker toevoegen": "Add a user",
    "actief": "active",
    "uit": "off",
    "geblokkeerd": "locked",
    "Team of wachtwoord": "Team or password",
    "Team opslaan": "Save team",
    "Nieuw wachtwoord": "New password",
    "Wachtwoord opnieuw instellen": "Reset the password",
    "Leeg laten: dan maken wij een wachtwoord, dat u één keer ziet. De gebruiker wordt overal "
    "uitgelogd.": (
        "Leave it empty and we make a password that you see once. The user is logged out "
        "everywhere."
    ),
    "Nieuw wachtwoord voor": "New password for",
    "U ziet het alleen nu. Geef het persoonlijk of telefonisch door, niet per mail of chat. "
    "Alle logins van deze gebruiker zijn gestopt.": (
        "You see it only now. Pass it on in person or by phone, not by mail or chat. Every "
        "login of this user has ended."
    ),
    "Wachtwoord gewijzigd. Alle logins van deze gebruiker zijn gestopt.": (
        "Password changed. Every login of this user has ended."
    ),
    "Opgeslagen.": "Saved.",
    # The reports page.
    "Herinnering": "Reminder",
    # Objections to the signal (workplace.objections): the case page and the dossier.
    "Bezwaar tegen melding bij de gemeente": "Objection to the signal to the municipality",
    "Hoe": "How",
    "Bezwaar vastleggen": "Record an objection",
    "Intrekking vastleggen": "Record its withdrawal",
    "Kort, hoogstens 500 tekens": "Short, at most 500 characters",
    "Er staat een bezwaar tegen melding.": "An objection to the signal stands.",
    "Geen bezwaar tegen melding.": "No objection to the signal.",
    "Bezwaar": "Objection",
    "Intrekking": "Withdrawal",
    "Gemaakt op": "Made on",
    "Vastgelegd op": "Recorded on",
}


# The codes the system stores (escalation reasons, events, statuses), as consultants say
# them: (Dutch, English). A code not listed shows as itself.
CODES: dict[str, tuple[str, str]] = {
    "crisis": ("Crisis", "Crisis"),
    "help": ("Hulpvraag", "Asks for help"),
    "plan_request": ("Voorstel betaalafspraak", "Payment plan proposal"),
    "plan_broken": ("Afspraak niet nagekomen", "Plan broken"),
    "dispute": ("Betwist het bedrag", "Disputes the amount"),
    "callback": ("Wil gebeld worden", "Wants a call"),
    "unreachable": ("Onbereikbaar", "Unreachable"),
    "no_reply": ("Geen reactie", "No reply"),
    "question": ("Vraag", "Question"),
    "objection": ("Bezwaar tegen melding", "Objects to the signal"),
    "objection_withdrawn": ("Bezwaar ingetrokken", "Objection withdrawn"),
    "unknown_reply": ("Onduidelijk antwoord", "Unclear reply"),
    "handover_no_contact": ("Partner kreeg geen contact", "Partner could not reach"),
    "open": ("Loopt", "Running"),
    "paused": ("Gepauzeerd", "Paused"),
    "escalated": ("Bij consulent", "With a consultant"),
    "closed": ("Afgesloten", "Closed"),
    "proposed": ("Voorgesteld", "Proposed"),
    "active": ("Loopt", "Running"),
    "completed": ("Afgerond", "Completed"),
    "rejected": ("Afgewezen", "Rejected"),
    "reminder_queued": ("Herinnering klaargezet", "Reminder queued"),
    "channel_off": (
        "Niet bereikbaar via dit kanaal: het staat uit",
        "Not reachable on this channel: it is off",
    ),
    "reply_received": ("Antwoord ontvangen", "Reply received"),
    "claimed": ("Opgepakt", "Claimed"),
    "released": ("Teruggegeven", "Released"),
    "consultant_reply": ("Bericht van consulent", "Consultant's message"),
    "contact_logged": ("Contact vastgelegd", "Contact logged"),
    "plan_offered": ("Betaalafspraak getoond", "Plan shown"),
    "plan_agreed": ("Betaalafspraak gemaakt", "Plan agreed"),
    "plan_proposed": ("Voorstel naar consulent", "Proposal to a consultant"),
    "plan_approved": ("Voorstel goedgekeurd", "Proposal approved"),
    "plan_rejected": ("Voorstel afgewezen", "Proposal rejected"),
    "handed_over": ("Warm overgedragen", "Handed over"),
    "partner_feedback": ("Terugkoppeling partner", "Partner feedback"),
    "signalled": ("Gemeld bij gemeente", "Signalled"),
    "resolved": ("Afgesloten", "Resolved"),
    "close_held": (
        "Betaald; blijft open tot het beloofde contact",
        "Paid; open until the promised contact",
    ),
    "opted_out": ("Afgemeld", "Opted out"),
    "opted_in": ("Weer aangemeld", "Opted in"),
    "accepted": ("Opgepakt door partner", "Accepted"),
    "plan_in_place": ("Regeling getroffen", "Plan in place"),
    "no_contact": ("Geen contact", "No contact"),
    "no_arrears": ("Geen achterstand", "No arrears"),
    "already_signalled": ("Al gemeld", "Already signalled"),
    "no_written_reminder": ("Nog geen schriftelijke herinnering", "No written reminder yet"),
    "arrears_too_recent": ("Achterstand nog te kort", "Arrears too recent"),
    "no_personal_contact_attempt": (
        "Nog geen persoonlijke contactpoging",
        "No personal contact attempt yet",
    ),
    "plan": ("Betaalafspraak", "Payment plan"),
    "plan_dialogue": ("Wacht op antwoord over afspraak", "Waiting for the plan answer"),
    "question_answered": ("Vraag beantwoord", "Question answered"),
    "paid": ("Betaald", "Paid"),
    "moved": ("Verhuisd", "Moved"),
    "deceased": ("Overleden", "Deceased"),
    "other": ("Anders", "Other"),
    "consultant": ("Door consulent", "By a consultant"),
}


def translator(language: str) -> Callable[[str], str]:
    """A Dutch label in the consultant's language; a reason an action gave (English, from the
    code) too (workplace.problems)."""
    if language == "en":
        return lambda text: ENGLISH.get(text) or in_language(text, "en") or text
    return lambda text: in_language(text, "nl") or text


def code_labels(language: str) -> Callable[[str | None], str]:
    """A stored code as words in the consultant's language."""
    index = 1 if language == "en" else 0

    def label(code: str | None) -> str:
        if not code:
            return ""
        return CODES[code][index] if code in CODES else code

    return label
