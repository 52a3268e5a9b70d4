"""What tenants write, Dutch and English, by what it means. Word lists only; rules.intents
decides which meaning wins. The marks "*" and " ~ " are explained in rules.reply_text."""

from __future__ import annotations

from rules.reply_text import phrases

# The tenant may be in danger now: highest priority, crisis line in the answer.
CRISIS = phrases("""
    crisis | ontruim* | uit huis gezet | uit mijn huis gezet | eviction | evicted | deurwaarder |
    bailiff | zelfmoord | suicide | suicidal | kill myself | voor eten |
    niets ~ te eten | niks ~ te eten | geen ~ eten | no food | money for food | niet meer leven |
    wil dood | zie het niet meer zitten | zie het echt niet meer zitten | er niet meer zijn |
    einde aan maken | eind aan maken | mezelf iets aandoen | mezelf wat aandoen | end my life |
    end it all | er niet meer ben | er niet meer was | beter dood | dood wil | zelfdoding |
    van kant maken | want to die | no reason to live | don't want to live | dont want to live |
    stroom ~ afgesloten | gas ~ afgesloten | water ~ afgesloten | energie ~ afgesloten |
    afgesloten ~ stroom | afgesloten ~ gas | afgesloten ~ water | afgesloten ~ energie |
    zonder stroom | zonder gas | zonder water | zonder verwarming | geen stroom |
    geen verwarming | power ~ cut off | electricity ~ cut off | no electricity | no heating |
    huiselijk geweld | mishandel* | slaat me | slaat mij | sloeg me | sloeg mij | bedreigt me |
    bedreigt mij | durf niet ~ naar huis | niet veilig thuis | domestic violence | hits me |
    beats me | niet gegeten | niks gegeten | niets gegeten | honger | haven't eaten |
    havent eaten | starving | dakloos | op straat | homeless | on the street | sleep rough |
    wil niet meer ~ hoeft niet meer | hoeft niet meer ~ wil niet meer | leven hoeft niet meer |
    can't go on | cant go on | cannot go on | can not go on | want to end it |
    don't want to live | dont want to live | do not want to live | wil niet meer leven
""")

# Passing details to the municipality (the early signal): an objection the law respects.
OBJECTION = phrases("""
    bezwaar | niet doorgeven | niet naar de gemeente | geen melding | object | do not share |
    don't share | dont share | not pass | niet delen | niet dat mijn gegevens |
    mijn gegevens niet | gegevens niet doorgeven | wil niet dat ~ gemeente | geen gemeente |
    geen toestemming | geen gegevens | share my data | share my details | sharing my |
    don't ~ municipality | do not ~ municipality | not ~ the municipality |
    niet ~ doorsturen naar ~ gemeente | gemeente ~ niet ~ inlichten |
    gemeente ~ niet ~ informeren | niet ~ inlichten ~ gemeente | gemeente ~ niet te weten |
    gemeente ~ niet weten | niet akkoord ~ melding | niet akkoord ~ gemeente | gemeente ~ erbuiten |
    buiten de gemeente houden | don't ~ council | do not ~ council | not ~ the council |
    don't want ~ council | do not want ~ council | don't want ~ municipality |
    do not want ~ municipality
""")

# An explicit ask for a person's help: it wins over an offer in the same message.
HELP_ASKED = phrases("hulp | help | helpen | hulp nodig | support")

# Hard times, debts, or a helper already involved: help, unless the tenant also offers a plan.
HARDSHIP = phrases("""
    schuldhulp* | schulden | bewind* | ontslag | ontslagen | werkloos | werk kwijt* | baan kwijt* |
    gestopt met werken | burn-out | burnout | schuldsanering* | wsnp | ziek | overleden |
    begrafenis | gescheiden | scheiding | geen geld | geen inkomen | uitkering | bijstand |
    kom ~ niet rond | redt het niet | red ~ niet |
    weet het niet meer | weet niet meer wat | kan ~ niet ~ betalen | kan ~ niks ~ betalen |
    kan ~ niets ~ betalen | kunnen ~ niet ~ betalen | niet rondkomen | rondkomen | geen werk |
    moeilijk | zwaar | krap | problemen | een probleem | geldzorgen | geldzaken | financiele |
    inkomen ~ gedaald | minder inkomen | partner is weg | partner is vertrokken | no money | debt |
    lost my job | sick | ill | died | can't pay | cant pay | cannot pay | can not pay |
    unable to pay | struggling | financial | trouble | money problems | overzien |
    overzicht kwijt | veel rekeningen | geen cent | geen rooie cent | blut | platzak | broke |
    skint | toeslagenaffaire | toeslagen affaire | gedupeerd* | ziektewet | arbeidsongeschikt |
    kan ~ niet werken | can't work | cannot work
""")

# Already in debt assistance or under a bewindvoerder: the consultant writes to them. By the
# kind of helper, so that the case shows who it is (the first kind found is named).
ASSISTED_ADMINISTRATOR = phrases("""
    bewindvoerder* | bewindvoer* | bewind | beschermingsbewind | administrator | onder bewind
""")
ASSISTED_BUDGET = phrases("budgetbeheer | budget beheer | budgetbeheerder")
ASSISTED_DEBT_HELP = phrases("""
    wsnp | msnp | schuldsanering* | schuldregeling | minnelijk* | kredietbank | counsel* |
    mijn schuldhulp* | schuldhulpcoach* | schuldhulpverlener* | schuldhulptraject |
    schuldbemiddel* | via ~ schuldhulp* | gaat via ~ schuldhulp* | zit ~ schuldhulp* |
    zitten ~ schuldhulp* | ben al ~ schuldhulp* | ben in ~ schuldhulp* | ben bij ~ schuldhulp* |
    al ~ schuldhulp* | aangemeld ~ schuldhulp* | wachtlijst ~ schuldhulp* |
    loopt ~ schuldhulp* | schuldhulp* ~ loopt | schuldhulp* ~ heeft | schuldhulp* ~ betaalt |
    schuldhulp* ~ regelt | already ~ debt | in debt help
""")
ASSISTED_OTHER = phrases("""
    budgetcoach | helpt mij al | helpen mij al | already helping | schuldhulpmaatje | maatje |
    thuisadministratie | mijn maatschappelijk werk* | mijn hulpverlener | mijn social worker |
    my social worker | my caseworker | my support worker
""")
ASSISTED = ASSISTED_ADMINISTRATOR + ASSISTED_BUDGET + ASSISTED_DEBT_HELP + ASSISTED_OTHER
# A helper wanted is not a helper had: "ik heb een schuldhulpverlener nodig".
HELPER_WANTED = phrases("""
    bewindvoerder nodig | bewindvoerster nodig | bewind nodig | schuldhulpverlener nodig |
    schuldhulpverlening nodig | schuldhulpcoach nodig | budgetcoach nodig | schuldhulp nodig |
    budgetbeheer nodig | wil ~ bewindvoer* | wil ~ schuldhulpverlener* |
    zoek ~ bewindvoer* | zoek ~ schuldhulp* | bewind* ~ aanvragen | aanvragen ~ bewind* |
    need ~ administrator | want ~ administrator | need ~ counsel* | looking for ~ counsel*
""")

DISPUTE = phrases("""
    klopt ~ niet | niet klopt | niet juist | onjuist | fout* | not correct | incorrect | wrong |
    mistake | vergissing | dispute | oneens | niet mee eens | geen achterstand | niets schuldig |
    niks schuldig | don't owe | dont owe | do not owe | not right | isn't right |
    verkeerde nummer | verkeerd nummer | woon ~ niet meer | woon hier niet | niet mijn schuld |
    niet mijn adres | verhuisd | moved out | don't live here | not my debt | nooit ~ achterstand |
    niet verrekend | niet verwerkt | kan niet kloppen | kan ~ niet kloppen | niet kloppen |
    niet waar | not true | error | te hoog | too high | al een regeling |
    al een betalingsregeling | regeling lopen | regeling loopt | betaal ~ netjes | betaal altijd |
    altijd op tijd | hoe kan dat | klopt ~ geen kant | klopt niks | klopt niets | isn't my |
    is not my | not mine | niet van mij | always pay | already have a payment plan |
    verkeerde persoon | verkeerd persoon | verkeerde huurder | verkeerde adres | verkeerd adres |
    verkeerde naam | niet de huurder | geen huurder | nooit huurder | not the tenant |
    wrong address | huur ~ opgezegd | huurcontract ~ opgezegd | woning ~ opgezegd |
    veel te veel | dat is ~ te veel | te veel berekend | te veel gerekend |
    niet eens met | niks achterstand | niets achterstand | geen schuld | ken deze persoon niet |
    ken die persoon niet | don't know this person | dont know this person
""")

CALLBACK = phrases("""
    bel me | bel mij | belt u | terugbellen | teruggebeld | terug gebeld | bellen | call me |
    phone me | call back | callback | ring me | telefonisch | on the phone | by phone |
    iemand spreken | speak to someone | talk to someone | a call | phone call | belletje |
    wil ~ gesprek | graag ~ gesprek | gesprek aanvragen | contact opnemen | contact met mij |
    contact met me | contact me | contact with me | met iemand praten | iemand te spreken |
    praten met | talk to | speak to | een gesprek | persoonlijk gesprek | langskomen |
    langs komen | face to face | appointment
""")

PAID = phrases("""
    betaald | overgemaakt | al voldaan | voldaan | gestort | paid | payed | transferred |
    betaling ~ gedaan | payment done | payment made | made the payment | money sent |
    sent the money | onderweg | geld staat erop | verstuurd | verzonden | over gemaakt |
    over geboekt | overgeboekt | afbetaald | terugbetaald | bijbetaald | ingelost | afgelost |
    afgeschreven | geincasseerd | eraf gegaan | betaalbewijs | betalingsbewijs |
    bewijs van betaling | proof of payment | op jullie rekening | op uw rekening |
    in your account | settled
""")
# "Betaald" that tells of no payment to us: wages coming in ("ik krijg vrijdag betaald"), the
# end of a plan ("tot alles betaald is"), a deadline ("wanneer moet het betaald zijn").
NOT_A_PAYMENT = phrases("""
    krijg ~ betaald | krijgen ~ betaald | word ~ betaald | wordt ~ betaald | get paid |
    tot ~ betaald | totdat ~ betaald | until ~ paid | moet ~ betaald | must be paid
""")
# A pay verb in the present or future: with a later date, "betaald" elsewhere is no payment.
PROMISE = phrases("""
    betaal | betalen | overmaken | maak ~ over | pay | will | i'll | zal | ga | de rest |
    the rest | restant | volgt | stuur | sturen | stort | storten
""")
# Said of a payment already made: "ik heb vrijdag betaald" stays paid, whatever the date.
PAST = phrases("""
    heb | hebben | heeft | had | gisteren | eergisteren | vorige | afgelopen | al | reeds | net |
    zojuist | vanochtend | vanmorgen | already | have | has | did | yesterday | last | ago | just
""")

PLAN = phrases("""
    regeling* | betalingsregeling | betaalregeling | betaalafspraak | afspraak | termijn* |
    per maand | per mnd | p/m | pm | in de maand | elke maand | maandelijks | per week | in delen |
    gespreid | verspreiden | verdelen | spread | later betalen | volgende maand | plan |
    instalment* | installment* | per month | a month | monthly | pay later | next month |
    arrangement | afbetalen | afbetaling* | aflossen | aflossing* | in een keer | in 1x |
    in 1 keer | ineens | niet alles |
    tegelijk | at once | in one go | uitstel | meer tijd | extra tijd | tijd nodig | more time |
    elke week | iedere week | every week | wekelijks | weekly | beetje ~ betalen | in stukjes |
    in stukken | in gedeelte* | in porties | deelbetaling* | beetje bij beetje |
    stukje bij beetje | in parts | bit by bit | little by little
""")
# Weaker signs of a plan or promise: they count only when nothing else was said.
PLAN_WEAK = phrases("""
    betaal | ga ~ betalen | ga ~ overmaken | pas ~ betalen | i'll pay | i will pay |
    maak ~ over | stuur ~ geld | geld ~ sturen | ga ~ storten | stort ik | i'll send ~ money |
    will send ~ money
""")

QUESTION = phrases("""
    hoeveel | waarom | wie is | wie ben | wie bent | iban | rekeningnummer | wat moet | how much |
    why | who is | who are | what | wat is | wat gebeurt | hoe kan ik betalen | hoe betaal ik |
    hoe hoog | waar kan ik | kenmerk | betalingskenmerk | welk nummer | welke rekening |
    welk rekeningnummer | which number | who | snap ~ niet | begrijp ~ niet | snap er niks |
    begrijp er niks | don't understand | dont understand | wat betekent | what does ~ mean
""")
# A question about how much or where to pay, which the bot may answer from the case's data.
PAYMENT_QUESTION = phrases("""
    hoeveel | how much | bedrag | saldo | iban | rekeningnummer | rekening nummer |
    welke rekening | overmaken naar | betalen naar | naartoe | waar moet ik | hoe kan ik betalen |
    hoe betaal ik | account number | which account | pay to | what do i owe | waar kan ik |
    kenmerk | betalingskenmerk | hoe hoog | wat moet ik ~ betalen | pay with | ideal |
    how do i pay | how can i pay | where do i pay | where can i pay | welk nummer |
    welk rekeningnummer | which number | moet ik ~ overmaken | moet ik ~ storten |
    waar ~ overmaken | waar ~ storten | send ~ money to | where ~ send
""")

STOP_WORDS = frozenset(
    {
        "stop",
        "stopp",
        "stoppen",
        "afmelden",
        "unsubscribe",
        "unsub",
        "uitschrijven",
        "optout",
        "cancel",
        "end",
        "quit",
    }
)
START_WORDS = frozenset({"start", "aanmelden", "unstop", "subscribe"})
STOP = phrases("""
    geen berichten meer | geen sms meer | geen smsjes meer | geen whatsapp meer |
    geen whatsapps meer | geen appjes meer | geen mails meer | geen berichtjes meer |
    niet meer sturen | niet meer appen | niet meer sms* | hou op met | houd op met |
    stop met sms* | stop met app* | stop met berichten | stop met sturen | stop texting |
    stop messaging | stop sending | no more messages | stop met ~ berichten | niet meer gestoord |
    niet meer lastig | stuur ~ niks meer | stuur ~ niets meer | stuur ~ geen ~ meer | don't text |
    dont text | do not text | don't message | do not message | text me anymore | remove me |
    van de lijst | uit de lijst | meld me af | meld mij af | schrijf me uit | schrijf mij uit |
    afgemeld worden | opt out | opt-out | laat me ~ met rust | laat mij ~ met rust |
    leave me alone
""")
START = phrases("""
    weer aanmelden | weer berichten | berichten weer | weer ontvangen | weer ~ appen |
    weer ~ sms* | weer ~ mailen | weer ~ whatsapp* | zet ~ weer aan | weer aanzetten |
    message me again | text me again | contact me again
""")
# A date beside these is when the tenant will look or answer, not pay: "ik kijk er morgen naar".
DEFER = phrases("""
    kijk* | laat ~ weten | reageer | reageren | antwoord* | kom ~ terug | get back |
    let you know | look at | check
""")

# Real words close to a keyword that must not be "corrected" into it.
KEEP = frozenset(
    {
        "betaal",
        "betalen",
        "betaling",
        "betaalt",
        "maand",
        "maanden",
        "graag",
        "bedankt",
        "ineens",
        "gestopt",
        "stopgezet",
        "helpt",
        "gelezen",
        "afspreken",
        "zojuist",
        "transfer",
        "mogelijk",
    }
)
