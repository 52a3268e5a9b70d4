"""The workplace speaks Dutch; English is a choice in the header. Pages write the Dutch
label and `t()` gives it in the consultant's language."""

from __future__ import annotations

from collections.abc import Callable

ENGLISH = {
    "Wachtrij": "Queue",
    "Uitloggen": "Log out",
    "Inloggen": "Log in",
    "Gebruikersnaam": "User name",
    "Wachtwoord": "Password",
    "Naam of wachtwoord klopt niet.": "Name or password is wrong.",
    "Te veel pogingen. Dit account is even geblokkeerd; probeer het later opnieuw.": (
        "Too many attempts. This account is locked for a while; try again later."
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
}


def translator(language: str) -> Callable[[str], str]:
    if language == "en":
        return lambda text: ENGLISH.get(text, text)
    return lambda text: text
