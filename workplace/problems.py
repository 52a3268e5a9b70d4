"""Why an action could not be done, in the consultant's language. The actions and accounts
raise their reasons in English (the command line shows them as they are); a page in Dutch
shows them in Dutch, a page in English as a sentence."""

from __future__ import annotations

import re

DUTCH = {
    # workplace/actions.py, workplace/replies.py, workplace/*_routes.py
    "no such case": "Deze zaak bestaat niet.",
    "the case changed while you were looking at it; have a look again and repeat": (
        "De zaak is veranderd terwijl u keek; bekijk hem opnieuw en probeer het nog eens."
    ),
    "write a message first": "Schrijf eerst een bericht.",
    "keep it under 1000 characters; a call may say more": (
        "Houd het onder de 1000 tekens; in een gesprek kunt u meer zeggen."
    ),
    "the tenant has no channel we may write on now; call or visit": (
        "De huurder is nu via geen enkel kanaal schriftelijk bereikbaar; bel of ga langs."
    ),
    "the tenant cannot be reached on that channel now; choose another": (
        "Via dat kanaal is de huurder nu niet bereikbaar; kies een ander."
    ),
    "this proposal has been decided already": "Over dit voorstel is al besloten.",
    "choose a date in the future": "Kies een datum in de toekomst.",
    "pause for a year at most": "Pauzeer hoogstens een jaar.",
    "this case is closed": "Deze zaak is afgesloten.",
    "this case is closed already": "Deze zaak is al afgesloten.",
    "choose a reason": "Kies een reden.",
    "record how the tenant agreed to the handover": (
        "Leg vast hoe de huurder toestemming gaf voor de overdracht."
    ),
    "choose what the partner reported": "Kies wat de partner terugmeldde.",
    "no such handover": "Deze overdracht bestaat niet.",
    "give a date as yyyy-mm-dd": "Geef een datum als jjjj-mm-dd.",
    "choose how the contact was made": "Kies hoe er contact was.",
    "approve or reject": "Keur goed of wijs af.",
    # workplace/objections.py
    "record an objection or its withdrawal": "Leg een bezwaar of de intrekking ervan vast.",
    "choose how the tenant told us": "Kies hoe de huurder het ons liet weten.",
    "keep the note to 500 characters": "Houd de notitie op hoogstens 500 tekens.",
    "the date and time cannot be in the future": (
        "Datum en tijd kunnen niet in de toekomst liggen."
    ),
    "the date is before the arrears began": "De datum ligt vóór het begin van de achterstand.",
    "there is no objection to withdraw": "Er staat geen bezwaar dat ingetrokken kan worden.",
    "the objection was made later; a withdrawal must come after it": (
        "Het bezwaar is later gemaakt; een intrekking moet erna komen."
    ),
    "a handover needs the tenant's consent": (
        "Voor een overdracht is toestemming van de huurder nodig."
    ),
    "choose a partner": "Kies een partner.",
    # workplace/accounts.py
    "a password must not contain the user name": (
        "Een wachtwoord mag de gebruikersnaam niet bevatten."
    ),
    "no such user": "Deze gebruiker bestaat niet.",
    "you cannot deactivate yourself": "U kunt uzelf niet uitschakelen.",
    "unknown change": "Onbekende wijziging.",
    # workplace/signals.py
    "none of the chosen cases may be signalled now": (
        "Geen van de gekozen zaken mag nu gemeld worden."
    ),
}

# Reasons with a value in them: (pattern, Dutch, English); None keeps the English as it is.
PATTERNS: list[tuple[re.Pattern[str], str, str | None]] = [
    (
        re.compile(r"a password needs at least (?P<n>\d+) characters"),
        "Een wachtwoord heeft minstens {n} tekens.",
        None,
    ),
    (
        # Older code ended this one at "at most 100", without saying of what.
        re.compile(r"a user name is letters and digits \(and dots\), at most (?P<n>\d+)(?: \w+)?"),
        "Een gebruikersnaam bestaat uit letters en cijfers (en punten), hoogstens {n} tekens.",
        "A user name is letters and digits (and dots), at most {n} characters.",
    ),
    (
        re.compile(r"user (?P<name>\S+) already exists"),
        "Gebruiker {name} bestaat al.",
        None,
    ),
    (
        re.compile(r"no user (?P<name>\S+)"),
        "Er is geen gebruiker {name}.",
        None,
    ),
    (
        re.compile(
            r"unknown team (?P<team>'.*'|\".*\"): teams are set in the policy "
            r"\(\[teams\]: (?P<known>.*)\)"
        ),
        "Onbekend team {team}: teams staan in het beleid ([teams]: {known}).",
        None,
    ),
    (
        re.compile(r"'(?P<role>.*)' is not a valid Role"),
        "Kies een rol: consulent of coördinator.",
        "Choose a role: consultant or coordinator.",
    ),
]


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def in_language(text: str, language: str) -> str | None:
    """The reason in the language, or None when it is not one of ours."""
    if language != "en" and text in DUTCH:
        return DUTCH[text]
    for pattern, dutch, english in PATTERNS:
        found = pattern.fullmatch(text.strip())
        if found is None:
            continue
        values = dict(found.groupdict())
        if language == "en":
            return english.format(**values) if english else _sentence(text)
        if values.get("known") == "none yet":
            values["known"] = "nog geen"
        return dutch.format(**values)
    if language == "en" and text in DUTCH:
        return _sentence(text)
    return None
