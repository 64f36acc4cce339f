"""The innovation screen's word lists: concepts in English, Spanish and Catalan.

Each category maps *concepts* (the evidence label, e.g. ``"afterwork"``) to one regular
expression that matches the concept in any of the three languages, on text folded by
:func:`cwsgeo._text.fold` (lower case, no accents, every run of punctuation one space:
"col·laboració" is ``col laboracio``). A concept counts once however often, and in however
many languages, it appears: the screen counts *distinct* concepts.

:data:`ROOM_HIRE` lists phrases that rent a room *for* events or workshops ("sala para
talleres", "meeting room for workshops", "event space", "alquiler de salas para eventos");
they are blanked out before the categories are matched, so renting a room is not an event.

Categories
----------
``community``
    community, like-minded people, networking, tribe, belonging, community manager, synergies.
``events``
    programmed events: an events programme, afterworks, hackathons, meetups, talks,
    workshops, seminars, pitch nights / demo days, community breakfasts and lunches.
``projects``
    projects, collaboration, co-creation, knowledge sharing, interdisciplinary work,
    innovation.
``startups``
    start-ups, ecosystem, incubation, acceleration, mentoring, investors.
``makers``
    fab lab, makers / makerspace, 3D printing, laser cutting, prototyping.
``business``
    business-centre services: virtual office, domiciliation / fiscal address, reception,
    mail handling, secretarial services, business centre, call handling, executive offices.
"""

from __future__ import annotations

import re

__all__ = ["CATEGORIES", "INNOVATION_CATEGORIES", "LEXICON", "ROOM_HIRE"]

#: Categories that raise the score, in output order.
INNOVATION_CATEGORIES: tuple[str, ...] = ("community", "events", "projects", "startups",
                                          "makers")

#: Every category; ``business`` lowers the score.
CATEGORIES: tuple[str, ...] = (*INNOVATION_CATEGORIES, "business")

_RAW: dict[str, dict[str, str]] = {
    "community": {
        "community": r"communit(?:y|ies)|comunidad(?:es)?|comunitat(?:s)?",
        "like-minded": r"like ?minded|afines|afins|intereses comunes|interessos comuns",
        "networking": r"networking",
        "tribe": r"tribe|tribu",
        "belonging": r"sense of belonging|sentido de pertenencia|sentiment de pertinenca",
        "community manager": r"community (?:manager|builder|team)s?|dinamizador(?:a|es)?"
                             r"|dinamitzador(?:a|s)?|dinamizacion|dinamitzacio",
        "synergies": r"synerg(?:y|ies)|sinergias?|sinergies",
    },
    "events": {
        "events programme": r"(?:networking|community|member|regular|monthly|weekly|social)"
                            r" events|events? (?:programme|program|calendar|for (?:our )?"
                            r"members)|we (?:organi[sz]e|host|run)(?: \w+){0,3} events"
                            r"|(?:our|the) events|eventos? (?:de networking|de (?:la )?"
                            r"comunidad|mensuales|semanales|periodicos|regulares|para (?:los )?"
                            r"(?:miembros|socios|coworkers))|(?:programa|calendario|agenda) de"
                            r" (?:eventos|actividades)|(?:organizamos|nuestros)(?: \w+){0,3}"
                            r" eventos|esdeveniments|organitzem",
        "afterwork": r"after ?works?",
        "hackathon": r"hackath?ons?",
        "meetup": r"meet ?ups?",
        "talks": r"talks|charlas|xerrades|ponencias|conferences|conferencias|conferencies",
        "workshops": r"workshops?|talleres|tallers",
        "seminars": r"seminars?|seminarios?|seminaris?|masterclass(?:es)?",
        "pitch / demo day": r"pitch(?:es|ing)? (?:nights?|sessions?|events?)|demo ?days?",
        "community meals": r"(?:community|networking|members?) (?:breakfasts?|lunch(?:es)?"
                           r"|dinners?)|desayunos?|esmorzars?",
    },
    "projects": {
        "projects": r"projects?|proyectos?|projectes?",
        "collaboration": r"collaborat\w*|colabora\w*|col ?labor\w*",
        "co-creation": r"co ?creat\w*|co ?creacion|co ?creacio",
        "knowledge sharing": r"(?:share|sharing|exchange) (?:of )?(?:knowledge|ideas|"
                             r"experiences?|skills)|(?:compartir|intercambi\w*|intercanvi\w*)"
                             r" (?:de )?(?:conocimientos?|coneixements?|ideas|idees|"
                             r"experiencias|experiencies)",
        "interdisciplinary": r"(?:inter|multi|trans)disciplin\w*|cross ?pollinat\w*",
        "innovation": r"innovation|innovative|innovacion|innovadora?s?|innovacio",
    },
    "startups": {
        "startups": r"start ?ups?",
        "ecosystem": r"ecosystems?|ecosistemas?",
        "incubation": r"incubat\w*|incubadoras?|incubacion|incubacio",
        "acceleration": r"accelerat(?:or|ors|ion)|aceleradoras?|aceleracion|acceleradores"
                        r"|acceleradora|acceleracio",
        "mentoring": r"mentor\w*|tutorizacion",
        "investors": r"investors?|inversor(?:es|s)?|business angels?|venture capital"
                     r"|capital riesgo|capital risc|investment fund|fondos? de inversion",
    },
    "makers": {
        "fab lab": r"fab ?labs?",
        "makers": r"makers?|makerspaces?|maker spaces?",
        "3d printing": r"3d print\w*|impres(?:ion|ora)s? 3d|impress(?:io|ora) 3d",
        "laser cutting": r"laser cut\w*|corte (?:por )?laser|tall laser",
        "prototyping": r"prototyp\w*|prototip\w*",
    },
    "business": {
        "virtual office": r"virtual offices?|oficinas? virtual(?:es)?|oficines? virtuals?",
        "domiciliation": r"domicilia\w*|registered (?:office|address)|business address"
                         r"|fiscal (?:business )?address|direccion fiscal|domicilio (?:fiscal"
                         r"|social)|adreca fiscal",
        "reception": r"reception\w*|recepcion(?:ista)?|recepcio(?:nista)?|front desk",
        "mail handling": r"mail (?:handling|service|management|forwarding)|correspondence"
                         r"|correspondencia|paqueteria|gestion de correo",
        "secretarial": r"secretar\w*",
        "business centre": r"business cent(?:er|re)s?|centros? de negocios?|centre de negocis",
        "call handling": r"call answering|telephone answering|answering service"
                         r"|atencion telefonica|atencio telefonica",
        "executive offices": r"executive (?:offices?|suites?)|despachos? ejecutivos?",
    },
}

#: Category -> concept -> compiled pattern (on folded text, whole words).
LEXICON: dict[str, dict[str, re.Pattern[str]]] = {
    cat: {concept: re.compile(rf"\b(?:{pattern})\b") for concept, pattern in terms.items()}
    for cat, terms in _RAW.items()}

_ROOM = (r"(?:salas?|sales|rooms?|spaces?|espacios?|espais?|areas?|zonas?|auditori(?:um|o)?"
         r"|venues?|aulas?|spaces)")
_USE = (r"(?:eventos?|events?|talleres|tallers|workshops?|formacion|formacio|trainings?"
        r"|presentaciones|presentations?|conferencias|conferences?|charlas|seminarios?"
        r"|seminars?|reuniones|meetings?|celebraciones|esdeveniments)")

#: Room-hire phrases, blanked out before matching: a room *for* events is not an event.
ROOM_HIRE: re.Pattern[str] = re.compile(
    rf"\b{_ROOM}(?: \w+){{0,3}} (?:for|para|per|de|a) (?:\w+ ){{0,2}}{_USE}\b"
    rf"|\b(?:event|events|workshop|training|meeting|conference|seminar) (?:rooms?|spaces?"
    rf"|venues?|areas?|hire|rental)(?: (?:for|para|per|de|a) (?:\w+ ){{0,2}}{_USE})?\b"
    rf"|\b(?:alquiler|alquilar|lloguer|llogar|rent|rental|hire|book|booking)(?: \w+){{0,4}}"
    rf" {_USE}\b"
    rf"|\b{_USE} (?:privados?|privats?|private|corporativos?|corporatius?|corporate)\b"
    rf"|\b(?:host|hold|organi[sz]e) your (?:own )?{_USE}\b")
