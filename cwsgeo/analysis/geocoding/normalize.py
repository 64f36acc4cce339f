"""Address text: folding, street-name keys and splitting an address into its parts.

Street names are compared on a *key*: folded text (lower case, no accents, ``l·l``/``l.l``/
``l-l`` -> ``ll``, ``ñ`` -> ``ny``), Spanish and abbreviated type words mapped to the Catalan
type (:data:`TYPE_WORDS`), a short table of common Spanish words mapped to Catalan
(:data:`SPANISH_WORDS`) and the particles (``de``, ``del``, ``d'``, ``la``, ``els`` ...) dropped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..._text import strip_accents

__all__ = [
    "HONORIFICS",
    "PARTICLES",
    "SPANISH_WORDS",
    "STREET_TYPES",
    "TYPE_WORDS",
    "ParsedAddress",
    "fold",
    "normalize_street",
    "parse_address",
    "street_key",
    "type_words",
]


def _types(**groups: list[str]) -> dict[tuple[str, ...], str]:
    """``canonical=["word", "two words", ...]`` -> {("word",): canonical, ("two", "words"): ...}."""
    return {tuple(w.split()): kind for kind, words in groups.items() for w in words}


#: Street-type words and abbreviations by language (folded, as token tuples) -> canonical
#: type. Canonical types are the folded Catalan words for the kinds Catalan has (so Spanish,
#: English, Italian, French and German "square" all become ``placa``), and the language's
#: own word otherwise; one type per street kind is all that matters, since a query and the
#: names it is compared with go through the same table.
STREET_TYPES: Mapping[str, dict[tuple[str, ...], str]] = {
    "ca": _types(
        carrer=["carrer", "c", "cl", "cll", "cr", "carr"],
        avinguda=["avinguda", "avda", "avd", "av", "avgda"],
        passeig=["passeig", "pg", "pso", "ps", "psg"],
        placa=["placa", "pza", "plza", "pl", "plc", "pca"],
        passatge=["passatge", "psje", "pje", "ptge", "pge"],
        travessera=["travessera", "trav", "trv"], travessia=["travessia", "trvs"],
        ronda=["ronda", "rda"], rambla=["rambla", "rbla", "rb"],
        **{"gran via": ["gran via", "g v", "gv", "gran v"]},
        carretera=["carretera", "ctra", "crta", "cra"], cami=["cami"],
        baixada=["baixada", "bda"], carrero=["carrero"], jardins=["jardins"],
        placeta=["placeta", "plta"], parc=["parc"], moll=["moll"], platja=["platja"],
        torrent=["torrent"], riera=["riera"], via=["via"], costa=["costa"],
        escales=["escales"]),
    "es": _types(
        carrer=["calle"], avinguda=["avenida"], passeig=["paseo"], placa=["plaza"],
        passatge=["pasaje"], travessera=["travesera"], travessia=["travesia"],
        rambla=["ramblas"], cami=["camino"], baixada=["bajada"], carrero=["callejon"],
        jardins=["jardines"], placeta=["plazoleta"], parc=["parque"], moll=["muelle"],
        platja=["playa"], torrent=["torrente"], escales=["escalinata"]),
    "en": _types(carrer=["street"], avinguda=["avenue"], placa=["square", "sq"]),
    "it": _types(carrer=["via", "v"], viale=["viale", "v le", "vle"], corso=["corso", "c so"],
                 placa=["piazza", "p za", "p zza", "pzza", "piazzale", "p le"],
                 carrero=["vicolo", "vic"], passatge=["galleria"], carretera=["strada", "str"],
                 passeig=["lungomare", "lungarno"], parc=["parco"]),
    "fr": _types(carrer=["rue", "r"], avinguda=["avenue", "av", "ave"], passeig=["boulevard",
                 "bd", "bld", "cours", "quai"], placa=["place", "pl"], passatge=["passage"],
                 carrero=["impasse", "imp"], carretera=["route", "rte"], cami=["chemin", "ch"],
                 parc=["parc"], jardins=["jardin", "jardins"]),
    "de": _types(carrer=["strasse", "str", "gasse"], avinguda=["allee"], placa=["platz", "pl"],
                 passeig=["ring", "damm", "ufer"], cami=["weg"], parc=["park"],
                 carrero=["steig"], passatge=["passage"], carretera=["chaussee"]),
}


def type_words(languages: Sequence[str]) -> dict[tuple[str, ...], str]:
    """Return the street-type vocabulary of some languages (the first language wins a clash).

    Parameters
    ----------
    languages
        Language codes of the city (a city profile's ``languages``), e.g. ``("it", "en")``;
        codes without a table are ignored.

    Examples
    --------
    >>> type_words(("it", "en"))[("via",)], type_words(("ca", "es", "en"))[("via",)]
    ('carrer', 'via')
    """
    out: dict[tuple[str, ...], str] = {}
    for lang in reversed(tuple(languages)):
        out.update(STREET_TYPES.get(lang, {}))
    return out


#: The street-type vocabulary of Catalan, Spanish and English (the default of the matching
#: functions; :func:`type_words` gives another city's). The Ajuntament's own abbreviations
#: from ``bcn_street_types.csv`` are added when a gazetteer that has them is loaded.
TYPE_WORDS: dict[tuple[str, ...], str] = type_words(("ca", "es", "en"))

#: Common Spanish words in Barcelona street names -> Catalan (folded). Most Spanish forms need
#: no entry: folding (accents, ``ñ`` -> ``ny``) and fuzzy matching cover "Cataluña",
#: "Valencia", "Mallorca", "Cristóbal de Moura", "Provenza", "Córcega", "Aragón", ...
SPANISH_WORDS: dict[str, str] = {
    "san": "sant", "pedro": "pere", "y": "i", "gerona": "girona", "lerida": "lleida",
    "consejo": "consell", "ciento": "cent", "cortes": "corts", "catalanas": "catalanes",
    "cataluna": "catalunya", "espana": "espanya", "ramblas": "rambla",
    "universidad": "universitat", "mayor": "major", "cerdenya": "sardenya", "nueva": "nova",
    "nuevo": "nou", "puerta": "porta", "puerto": "port", "iglesia": "esglesia",
    "conde": "comte", "duque": "duc", "obispo": "bisbe", "padre": "pare", "rey": "rei",
    "principe": "princep",
    # saints' names common in street names (Sant Joan, Sant Pau, Sant Jaume ...)
    "juan": "joan", "jose": "josep", "jaime": "jaume", "pablo": "pau", "jorge": "jordi",
    "antonio": "antoni", "francisco": "francesc", "miguel": "miquel", "andres": "andreu",
    # abbreviations of titles and saints
    "dr": "doctor", "dra": "doctora", "gral": "general", "sta": "santa", "mn": "mossen",
}

#: Titles often left out of a street name ("Plaça Letamendi" for "Plaça del Doctor
#: Letamendi"); a street is also found by its name without the title, 5 points lower.
HONORIFICS: frozenset[str] = frozenset(
    {"doctor", "general", "pintor", "poeta", "comte", "comtessa", "marques", "mossen", "pare",
     "beat", "bisbe", "escultor", "music", "enginyer", "rei", "reina", "infanta", "princep",
     "capita", "almirall", "arquitecte", "historiador", "abat", "fra", "president", "mestre",
     "germans", "baro", "duc", "cardenal", "sor", "monsenyor", "professor", "metge",
     "compositor", "escriptor", "pianista", "violoncel", "periodista", "actor", "actriu"})

#: Particles dropped from keys (Catalan and Spanish articles and prepositions).
PARTICLES: frozenset[str] = frozenset(
    {"de", "del", "dels", "d", "la", "les", "l", "el", "els", "en", "n", "na", "las", "los",
     "lo"})

_NUMBER_WORDS = frozenset({"n", "no", "num", "numero", "nr", "nro"})
_GENERIC_NAME_WORDS = frozenset({"coworking", "cowork", "work", "space", "spaces", "office",
                                 "offices", "center", "centre", "business", "hub", "lab",
                                 "house", "studio", "the"})

# l·l and its stand-ins; "." and "-" only between vowels ("Gal.la", not "Pl. Lesseps")
_MIDDLE_DOT = re.compile(r"l[·•∙˙‧・]l|ŀl|(?<=[aeiouàèéíïòóúü])l[.\-]l(?=[aeiouàèéíïòóúü])",
                         re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_POSTCODE = re.compile(r"(?<![\d.,])(\d{5})(?![\d.,]?\d)")
_NO_NUMBER = re.compile(r"\b(?:s\s*/\s*n|s\.\s*n\.?|sin\s+n[uú]mero|sense\s+n[uú]mero)(?!\w)",
                        re.IGNORECASE)
# A house number: 1-4 digits not glued to a word, slash or hyphen before it, and an optional
# letter glued to it ("19X") or standing alone before a comma or the end ("12 B").
_HOUSE_NUMBER = re.compile(
    r"(?<![\w/\-])(\d{1,4})(?:([A-Za-z])(?![\w·'])|\s+([A-HJ-NP-XZa-hj-np-xz])(?=\s*(?:,|$)))?"
    r"(?![\d])")


def fold(text: str) -> str:
    """Fold text for comparison: lower case, no accents, ``l·l`` -> ``ll``, ``ñ`` -> ``ny``.

    Apostrophes, slashes and other punctuation become spaces; runs of spaces collapse.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
        ASCII letters, digits and single spaces.

    Examples
    --------
    >>> fold("Plaça de Gal·la Placídia")
    'placa de galla placidia'
    >>> fold("Gal-la Placidia") == fold("Gal.la Placídia") == fold("GAL·LA PLACIDIA")
    True
    >>> fold("Plaza Cataluña")
    'plaza catalunya'
    >>> fold("Carrer d'Aragó")
    'carrer d arago'
    """
    text = _MIDDLE_DOT.sub("ll", str(text).lower())
    text = text.replace("ñ", "ny").replace("ß", "ss").replace("º", " ").replace("ª", " ")
    return _NON_ALNUM.sub(" ", strip_accents(text)).strip()


def _tokens(text: str) -> list[str]:
    return [SPANISH_WORDS.get(t, t) for t in fold(text).split()]


def _split_type(tokens: Sequence[str],
                types: Mapping[tuple[str, ...], str] = TYPE_WORDS) -> tuple[str | None, int]:
    """Return (Catalan type, tokens used) for a type word at the start of ``tokens``."""
    for size in (2, 1):
        head = tuple(tokens[:size])
        if len(head) == size and head in types:
            return types[head], size
    return None, 0


def street_key(text: str, types: Mapping[tuple[str, ...], str] = TYPE_WORDS
               ) -> list[tuple[str | None, str]]:
    """Return the readings of a street text as ``(type, name key)`` pairs, best first.

    The name key has no particles; the type is the Catalan street type (folded) or ``None``.
    "C/ Rambla de Catalunya" is read both as a "carrer" named "rambla catalunya" and as the
    "rambla" named "catalunya"; every text is also read as a name without a type.

    Parameters
    ----------
    text
        Street as written (no house number).
    types
        Type vocabulary (default :data:`TYPE_WORDS`).

    Returns
    -------
    list of (str or None, str)
        Distinct readings with a non-empty name key.

    Examples
    --------
    >>> street_key("Calle Valencia")
    [('carrer', 'valencia'), (None, 'calle valencia')]
    >>> street_key("C/ Rambla de Catalunya")[:2]
    [('carrer', 'rambla catalunya'), ('rambla', 'catalunya')]
    >>> street_key("La Rambla")
    [(None, 'rambla')]
    """
    tokens = [t for t in _tokens(text) if t not in PARTICLES]
    readings: list[tuple[str | None, str]] = []
    kind, used = _split_type(tokens, types)
    if kind is not None:
        rest = tokens[used:]
        if rest:
            readings.append((kind, " ".join(rest)))
            kind2, used2 = _split_type(rest, types)
            if kind2 is not None and rest[used2:]:
                readings.append((kind2, " ".join(rest[used2:])))
    if tokens:
        readings.append((None, " ".join(tokens)))
    return list(dict.fromkeys(readings))


def normalize_street(text: str, types: Mapping[tuple[str, ...], str] = TYPE_WORDS) -> str:
    """Return the canonical key of a street: canonical type (if any) + name, no particles.

    Parameters
    ----------
    text
        Street as written, in full or abbreviated form.
    types
        Type vocabulary (default :data:`TYPE_WORDS`; :func:`type_words` for other languages).

    Returns
    -------
    str
        Folded key; two spellings of one street give the same key.

    Examples
    --------
    >>> normalize_street("Calle Valencia") == normalize_street("Carrer de València")
    True
    >>> normalize_street("Avda. Diagonal")
    'avinguda diagonal'
    >>> normalize_street("Pza. Cataluña") == normalize_street("Plaça de Catalunya")
    True
    >>> normalize_street("Pg. de Gràcia") == normalize_street("Paseo de Gracia")
    True
    >>> normalize_street("Gran Vía de las Cortes Catalanas")
    'gran via corts catalanes'
    >>> normalize_street("Travesera de Gracia")
    'travessera gracia'
    >>> normalize_street("Placa Gal-la Placidia")
    'placa galla placidia'
    >>> normalize_street("P.za del Duomo", type_words(("it",)))
    'placa duomo'
    """
    readings = street_key(text, types)
    if not readings:
        return ""
    kind, name = readings[0]
    return f"{kind} {name}" if kind else name


# ---------------------------------------------------------------------------------------------
# Address parsing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedAddress:
    """An address split into its parts.

    Attributes
    ----------
    street
        Street as written, without number, floor, door, postcode or city.
    number
        First house number (``None`` when there is none).
    letter
        Letter glued to the number ("19X" -> ``"X"``), upper case, or ``""``.
    postcode
        Five-digit postcode found in the text, or ``None``.
    """

    street: str
    number: int | None = None
    letter: str = ""
    postcode: str | None = None


def _clean(text: str, stop_words: frozenset[str] = frozenset()
           ) -> tuple[str, str | None, bool]:
    """Return (text without postcode/city segments, postcode, explicit 'no number').

    A segment after the first comma made only of ``stop_words`` (the city and its region,
    folded) is dropped.
    """
    text = unicodedata.normalize("NFC", str(text)).replace("\u00a0", " ")
    text = re.sub(r"\s+", " ", text).strip()
    postcode = None
    match = _POSTCODE.search(text)
    if match:
        postcode = match.group(1)
        text = (text[:match.start()] + text[match.end():]).strip()
    no_number = bool(_NO_NUMBER.search(text))
    if no_number:
        text = _NO_NUMBER.sub(" ", text)
    parts = [p.strip() for p in re.split(r"[,;]", text)]
    kept = parts[:1] + [p for p in parts[1:]
                        if p and not set(fold(p).split()) <= stop_words]
    text = ", ".join(p for p in kept if p)
    text = re.sub(r"^[\s,.:;/-]+|[\s,.:;/-]+$", "", text)
    return text, postcode, no_number


def _street_before(text: str, end: int) -> str:
    street = text[:end]
    street = re.sub(r"[\s,.:;#/-]+$", "", street)
    words = street.split()
    while words and fold(words[-1]).replace(" ", "") in _NUMBER_WORDS:
        words.pop()
    return re.sub(r"[\s,.:;#/-]+$", "", " ".join(words))


def _candidates(text: str, stop_words: frozenset[str] = frozenset()
                ) -> tuple[list[ParsedAddress], str | None]:
    """Return every (street, number) reading of an address, in order, plus the postcode.

    The first reading takes the first number after a word; later ones take later numbers (for
    street names with digits, e.g. "Carrer Número 4 Zona Franca, 12"); the last reading is the
    whole text as a street without a number. ``stop_words``: see :func:`parse_address`.
    """
    cleaned, postcode, no_number = _clean(text, stop_words)
    readings: list[ParsedAddress] = []
    if not no_number:
        for m in _HOUSE_NUMBER.finditer(cleaned):
            street = _street_before(cleaned, m.start())
            if not re.search(r"[^\W\d_]", street):
                continue
            letter = (m.group(2) or m.group(3) or "").upper()
            readings.append(ParsedAddress(street, int(m.group(1)), letter, postcode))
    whole = _street_before(cleaned, len(cleaned))
    if re.search(r"[^\W\d_]", whole):
        readings.append(ParsedAddress(whole, None, "", postcode))
    return readings, postcode


def parse_address(text: str, stop_words: frozenset[str] = frozenset()) -> ParsedAddress:
    """Split an address into street, first house number, letter and postcode.

    Floor and door ("3º 2ª", "entresol 1a", "Principal 2ª", "1 Pis", "bajos", "local 3"),
    second numbers of a range ("25-27", "413, 415"), the postcode and a trailing city or
    country are dropped. This is the first reading only; the geocoder also tries later numbers
    when a street name itself contains digits.

    Parameters
    ----------
    text
        Address as written.
    stop_words
        Folded words of the city and its region
        (:attr:`~cwsgeo.analysis.geocoding.CityLexicon.address_stop_words`): a part after a
        comma made only of them is dropped (default: none).

    Returns
    -------
    ParsedAddress

    Examples
    --------
    >>> parse_address("Carrer del Consell de Cent, 413, 415, Principal 2ª")
    ParsedAddress(street='Carrer del Consell de Cent', number=413, letter='', postcode=None)
    >>> parse_address("Rambla de Catalunya, 125, 3º 2ª, 08008 Barcelona")
    ParsedAddress(street='Rambla de Catalunya', number=125, letter='', postcode='08008')
    >>> parse_address("Carrer Calàbria 149, entresol 1a").number
    149
    >>> parse_address("Carrer dels Pinzón 12-2").number
    12
    >>> parse_address("Carrer de Pallars 19X").letter
    'X'
    >>> parse_address("Ronda Sant Pere")
    ParsedAddress(street='Ronda Sant Pere', number=None, letter='', postcode=None)
    >>> parse_address("Calle Marina s/n").number is None
    True
    """
    readings, postcode = _candidates(text, stop_words)
    if not readings:
        return ParsedAddress("", None, "", postcode)
    return readings[0]


# ---------------------------------------------------------------------------------------------
# Names and postcodes
# ---------------------------------------------------------------------------------------------

_GLUED = re.compile(r"(?<![\w])([^\W\d_]{4,})(\d{1,4})(?![^\W_])")
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,4})\s+(?=[^\W\d_])")


def _name_spans(name: str) -> list[tuple[str, bool]]:
    """Return ``(street + number text, strict)`` readings of a name, shortest street first.

    Three forms: words then a number ("WeWork Avinguda Diagonal 371"), a number first
    ("630 Gran Via Business Center") and a word glued to a number ("pallars85"); the last is
    ``strict`` (accepted only on an exact street name and number).

    >>> [s for s, _ in _name_spans("WeWork Avinguda Diagonal 371")]
    ['Diagonal 371', 'Avinguda Diagonal 371', 'WeWork Avinguda Diagonal 371']
    >>> _name_spans("630 GRAN VIA Center")[:2]
    [('GRAN 630', False), ('GRAN VIA 630', False)]
    >>> _name_spans("pallars85")
    [('pallars 85', True)]
    >>> _name_spans("Talent Garden")
    []
    """
    spans: list[tuple[str, bool]] = []
    for m in _HOUSE_NUMBER.finditer(name):
        before = name[:m.start()].rstrip(" ,")
        words = before.split()
        if not words or not re.search(r"[^\W\d_]", words[-1]):
            continue
        tail = name[m.start():m.end()]
        for k in range(1, min(len(words), 6) + 1):
            spans.append((" ".join(words[-k:]) + " " + tail, False))
    lead = _LEADING_NUMBER.match(name)
    if lead:
        words = re.split(r"[\s,;|]+", name[lead.end():].strip())
        for k in range(1, min(len(words), 6) + 1):
            if re.search(r"[^\W\d_]", words[k - 1]) is None:
                break
            spans.append((" ".join(words[:k]) + " " + lead.group(1), False))
    spans += [(f"{m.group(1)} {m.group(2)}", True) for m in _GLUED.finditer(name)]
    return spans


def _clean_postcode(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = re.sub(r"\D", "", str(value).split(".")[0] if isinstance(value, float)
                  else str(value))
    if len(text) == 4:
        text = "0" + text
    return text if len(text) == 5 else None

