"""Word lists and hand tables of the gazetteer: stop words, common words, ports, country aliases.

Kept apart from the code so that :mod:`nlp.entity_rules` can read ``COUNTRY_ALIASES`` and
``PORTS`` (through :mod:`nlp.geo`) without building an index, and so the lists are reviewed in
one place.
"""

from __future__ import annotations

import re

MIN_CITY_POPULATION = 15000
MAX_NAME_WORDS = 6  # "Democratic Republic of the Congo"
WORD_RE = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")
CONNECTORS = frozenset(
    {"de", "la", "le", "les", "del", "am", "an", "der", "upon", "on", "sur", "en", "of", "y", "and", "et", "und", "the", "do", "da", "dos", "das", "di", "du"}
)
ALT_NAME_RE = re.compile(r"^[A-Z][a-zà-ÿ'’-]+(?: [A-Za-zà-ÿ'’-]+){0,3}$")

# Capitalised words that are also place names (cities >= 15k) but far more often something else.
STOPLIST: frozenset[str] = frozenset(
    s.lower()
    for s in """
    Police Officers Officer Court Crown March Sale Deal Bury Street Wells Nice Mobile Split Reading
    Orange Victoria Florence Charlotte Jackson Lincoln Austin Chester Lawrence Clinton Mesa Hope
    Providence Independence Union Marina Eagle Bath Best Gary Surprise Friendly Normal Pleasant
    Home Said Bar Border Force Mercedes Hill Spring Springs Valley Tyler Troy Aurora
    Lafayette Warren Lorain
    Grays Washington Jersey Santa Maria Salem Orleans
    Beach Garden Grove Park Ocean Lake Bay City Port Fort Mount Saint Royal Central
    Angel Sunrise Vista Concord Temple Cathedral Enterprise Liberty Commerce Mission Edison
    Palma Norman Pueblo Marion Irving Columbia Homestead Sandy Monroe Franklin Madison Phoenix Worth
    Mons Bonn Hamm Moers Marl Wesel Halle Gera Goch Speyer Kempten
    Este Mayo Mar Tres Dos Real Sol Leon Alicante Granada Teruel
    """.split()
)
# The stoplist only blocks gazetteer-scan matches; a span spaCy tagged GPE/LOC/FAC is trusted.

# Common words that are also gazetteer names or alternate names. Such a word is never indexed as
# an alternate name ("Drug" for Durg), is not a place when it opens a sentence ("Much of the
# evidence"), and in German, which capitalises every noun, is not a place anywhere.
COMMON_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """
        along also among many mine most much name same some such then there these this those
        very while whilst what when where which while who will with within without would about
        after again against all another any back because been before being below between both
        came come could down drug drugs each even every first from gang good great have here
        into just last like little long made make more must never next now only other over part
        said still take than that them they through time under until well were
        bush gold apex cash chase money note notes case cases cell court trade line lines port
        ports network union field fields ring rings shop market home town city cocoa
        """.split()
    ),
    "de": frozenset(
        """
        allen auch dabei dort ende ihren waren boden namen land stadt straße strasse haus hof
        markt mitte ober unter weg wege berg feld felder brücke kirche bank bahn hafen ort orte
        polizei gericht zoll recht
        """.split()
    ),
    "fr": frozenset("cela celle durant seul trente selon ville pont port maison".split()),
    "es": frozenset(
        "como este hago largo mias nada para sido sola solo tarde tienen toda usa puerto ciudad casa".split()
    ),
}
ALL_COMMON_WORDS: frozenset[str] = frozenset().union(*COMMON_WORDS.values())

# A lower-case determiner right before a capitalised name makes it a noun or part of a longer
# name: "the Meridian cartel", "im Boden des Containers", "La Línea de la Concepción".
DETERMINERS = frozenset(
    """
    the a an this that these those its our their his her
    der die das dem den des im am vom zum zur beim ein eine einem einen einer eines
    le la les un une el los las una
    """.split()
)
# Titles before a name make it a person: "Detective Sergeant Jordan Haverlock".
PERSON_TITLES = frozenset(
    """
    Mr Mrs Ms Miss Dr Sir Lord Lady Dame Judge Recorder Detective Sergeant Constable Inspector
    Superintendent Chief Officer Commander Commissioner DS DC DI DCI PC Herr Frau Monsieur Madame
    Señor Señora Don Doña
    """.split()
)
# "Jordan Pilbeam, 44, of Leeds": a capitalised surname then an age.
AGE_AFTER_RE = re.compile(r" [A-Z][^\W\d_]+(?:-[A-Z][^\W\d_]+)?,? \(?\d{1,3}\)?[,)]")
# "Kent Police", "Essex County Council": a region named in an organisation is context, not a place.
ORG_AFTER_RE = re.compile(r"\s+(?:Police|Constabulary|County Council|Council|Fire|Ambulance|Crown Court|Court)\b")
# "Kent Street", "the Amsterdam Arms": a street, estate or pub named after a place is not the place.
STREET_AFTER_RE = re.compile(r"\s+(?:Street|Road|Avenue|Lane|Drive|Arms|[Ee]state)\b")
QUALIFIER_GAP_RE = re.compile(r",[ \t]*")
SENTENCE_START_RE = re.compile(r"(?:^|[.!?:;\"“”‘(\n])\s*$")

# Function words to tell the document language when the caller does not say it.
LANGUAGE_MARKERS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of was were with from that which said have has".split()),
    "de": frozenset("der die das und ist wurde nicht mit sich von dem den ein eine".split()),
    "fr": frozenset("le la les et est des une dans pour qui sur du au".split()),
    "es": frozenset("el la los las y es del una por con que para fue".split()),
}

# UK/EU ports and border crossings: name -> (country, lat, lon, aliases).
PORTS: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    "Dover": ("GB", 51.1290, 1.3080, ("Douvres",)),
    "Felixstowe": ("GB", 51.9639, 1.3511, ()),
    "Tilbury": ("GB", 51.4624, 0.3620, ()),
    "Immingham": ("GB", 53.6146, -0.2180, ()),
    "Holyhead": ("GB", 53.3094, -4.6330, ()),
    "Southampton": ("GB", 50.9040, -1.4040, ()),
    "Harwich": ("GB", 51.9418, 1.2853, ()),
    "Hull": ("GB", 53.7446, -0.3352, ()),
    "Portsmouth": ("GB", 50.7989, -1.0912, ()),
    "Purfleet": ("GB", 51.4810, 0.2370, ()),
    "Stansted": ("GB", 51.8860, 0.2389, ()),
    "Calais": ("FR", 50.9581, 1.8525, ()),
    "Dunkirk": ("FR", 51.0344, 2.3768, ("Dunkerque", "Dünkirchen")),
    "Coquelles": ("FR", 50.9333, 1.8000, ()),
    "Le Havre": ("FR", 49.4939, 0.1077, ()),
    "Cherbourg": ("FR", 49.6337, -1.6222, ()),
    "Zeebrugge": ("BE", 51.3330, 3.2075, ("Zeebruges", "Brujas-Zeebrugge")),
    "Antwerp": ("BE", 51.2194, 4.4025, ("Anvers", "Amberes", "Antwerpen")),
    "Rotterdam": ("NL", 51.9225, 4.4792, ()),
    "Hook of Holland": ("NL", 51.9775, 4.1333, ("Hoek van Holland",)),
    "Hamburg": ("DE", 53.5511, 9.9937, ("Hambourg", "Hamburgo")),
    "Algeciras": ("ES", 36.1408, -5.4562, ()),
    "Valencia": ("ES", 39.4699, -0.3763, ()),
    "Ceuta": ("ES", 35.8894, -5.3213, ()),
    "Tanger Med": ("MA", 35.8869, -5.5020, ()),
    "Gioia Tauro": ("IT", 38.4270, 15.8990, ()),
}

# Country names in other languages and common short forms -> ISO code.
COUNTRY_ALIASES: dict[str, str] = {
    "UK": "GB", "U.K.": "GB", "Britain": "GB", "Great Britain": "GB", "England": "GB", "Scotland": "GB",
    "Wales": "GB", "Northern Ireland": "GB", "Royaume-Uni": "GB", "Angleterre": "GB", "Reino Unido": "GB",
    "Inglaterra": "GB", "Großbritannien": "GB", "Vereinigtes Königreich": "GB", "England und Wales": "GB",
    "USA": "US", "U.S.": "US", "America": "US", "États-Unis": "US", "Estados Unidos": "US", "Vereinigte Staaten": "US",
    "Netherlands": "NL", "Holland": "NL", "Pays-Bas": "NL", "Países Bajos": "NL", "Niederlande": "NL",
    "Frankreich": "FR", "Francia": "FR", "Allemagne": "DE", "Alemania": "DE", "Deutschland": "DE",
    "Espagne": "ES", "España": "ES", "Spanien": "ES", "Belgique": "BE", "Belgien": "BE", "Bélgica": "BE",
    "Italie": "IT", "Italien": "IT", "Albanie": "AL", "Albanien": "AL", "Maroc": "MA", "Marruecos": "MA",
    "Marokko": "MA", "Irlande": "IE", "Irlanda": "IE", "Irland": "IE", "Turquie": "TR", "Turquía": "TR",
    "Türkei": "TR", "Colombie": "CO", "Kolumbien": "CO", "Équateur": "EC", "Ecuador": "EC",
    "Vietnam": "VN", "Viêt Nam": "VN", "Brésil": "BR", "Brasil": "BR", "Brasilien": "BR",
    "Roumanie": "RO", "Rumania": "RO", "Rumänien": "RO", "Pologne": "PL", "Polonia": "PL", "Polen": "PL",
}

# Regions that only supply context for disambiguation (no coordinates are emitted for them).
GB_REGIONS: tuple[str, ...] = (
    "West Midlands", "East Midlands", "Midlands", "Greater Manchester", "Merseyside", "West Yorkshire",
    "South Yorkshire", "North Yorkshire", "Yorkshire", "Lancashire", "Kent", "Essex", "Surrey", "Sussex",
    "Hampshire", "Thames Valley", "Cheshire", "Cumbria", "Northumbria", "Durham", "Devon", "Cornwall",
    "Dorset", "Suffolk", "Norfolk", "Lincolnshire", "Humberside", "Shropshire", "Staffordshire",
    "Warwickshire", "Avon and Somerset", "Somerset", "Gloucestershire", "Wiltshire", "Merseyside",
    "South Wales", "North Wales", "Strathclyde", "Highlands", "Home Counties", "London Borough",
)


