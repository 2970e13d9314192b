"""Rule components around spaCy's statistical NER, and organisation matching without a model.

English pipelines get two components (:func:`add_english_rules`):

* ``osintel_org_ruler`` (an ``entity_ruler`` before ``ner``): the organisation names of
  ``nlp/data/organisations.yaml`` (police forces, agencies, courts, banks, platforms, port and
  transport operators, crime groups) plus token shapes: "<Name> Police/Constabulary/Navy/Coastguard",
  "<Place> Crown/Magistrates' Court", "HMP <Name>", "University of <Name>", "<Name> Council" and
  company names with a legal suffix ("Bramley Trading Ltd", "Baltic Fresh Produce BV"). ``ner``
  then labels around them, so "West Yorkshire Police" is no longer a GPE.
* ``osintel_entity_fixes`` (after ``ner``): consistent spans (no leading "the", no trailing
  lower-case word on an ORG: "the Sinaloa cartel" gives "Sinaloa"); crime groups by shape
  ("<Name> cartel/mafia/clan/OCG", unless the name is a nationality); an ORG or PERSON that is
  exactly a place name (GeoNames city, country, region or port, from :mod:`nlp.geonames`) is a GPE
  unless an organisation of that name is listed ("Santander" the bank) or the context reads as a
  group ("the Meridian"); a NORP that is a place name is a GPE; "Firstname Lastname, 34,"
  is a PERSON; no entity without a letter (emoji); drug names, method words, tickers, chat
  abbreviations (BTC, DM) and vehicle makes after "a silver" are not ORG/PERSON; "M62" is a road (FAC).

English entities then go through :mod:`nlp.entity_cues` (what a definition, a classifier noun or a
name's last word says it is; ranks, lists, connectives) and :mod:`nlp.entity_names` (given names and
surnames make a person; the span of a person's name).

The French pipeline gets the organisation names (not the English shapes) before its ``ner``.
Languages without a spaCy model get :class:`OrganisationMatcher`: the same names matched on a
multilingual tokenizer, so "la Guardia Civil" or "das Bundeskriminalamt" are ORG in any language.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import spacy
import yaml
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from spacy.vocab import Vocab

from nlp import entity_context, entity_cues, entity_names, geonames
from nlp.regions import load_regions

log = logging.getLogger(__name__)

ORGANISATIONS_FILE = Path(__file__).parent / "data" / "organisations.yaml"
#: Pattern id marking the ruler's entities (``ent.ent_id_``): listed names are never relabelled.
RULER_ID = "osintel-org"
#: Groups of the YAML file whose names are also used short ("Santander" for Banco Santander).
_SHORT_NAME_GROUPS = ("banks", "platforms", "companies", "transport")
#: Capitalised words that start a sentence or a title but never a force, court or group name.
_NOT_NAME_START: frozenset[str] = frozenset(STOP_WORDS) | {
    "officers", "officer", "detectives", "detective", "police", "yesterday", "today", "tonight",
    "investigators", "chief", "inspector", "sergeant", "constable", "superintendent", "spokesman",
    "spokeswoman", "spokesperson", "said", "says", "according", "lawyers", "prosecutors", "judge",
    "jurors", "sentencing", "at", "in", "from", "by", "when", "after", "before", "mr", "mrs", "ms", "dr",
    "members", "leader", "boss", "suspected", "alleged", "notorious", "rival", "local",
}
#: Tickers, codes and chat abbreviations the models tag ORG/PERSON: never a named organisation or person.
CODE_TOKENS: frozenset[str] = frozenset({
    "BTC", "ETH", "XMR", "USDT", "USDC", "LTC", "BCH", "XRP", "DOGE", "TRX", "BNB", "SOL", "ADA", "DAI",
    "AIS", "ANPR", "CCTV", "GPS", "VPN", "IMEI", "IMSI", "SIM", "ATM", "HGV", "LGV", "MMSI", "IMO",
    "DM", "DMs", "PM", "RT", "ASAP", "LOL", "OMG", "TBH", "FYI", "NSFW", "BRB", "IRL", "OTP", "PIN", "KYC",
})
#: Drugs and crime-method words that capitalisation or a headline makes look like a name.
NOT_NAMES: frozenset[str] = frozenset({
    "cocaine", "crack", "heroin", "mdma", "ecstasy", "ketamine", "spice", "mamba", "fentanyl", "nitazene",
    "nitazenes", "xanax", "valium", "diazepam", "etizolam", "alprazolam", "oxycodone", "tramadol",
    "pregabalin", "methadone", "cannabis", "skunk", "lsd", "ghb", "gbl", "captagon", "amphetamine",
    "methamphetamine", "crystal meth", "meth", "mephedrone", "xylazine", "kush", "county lines",
    "county line", "cuckooing", "smurfing", "phishing", "smishing", "vishing", "ransomware", "sextortion",
    "romance fraud", "money mule", "money mules", "hawala", "rip-on", "rip-off", "deal line",
    "hi mum", "mum", "dad", "nan", "bro", "fam",
    "blockchain", "crypto", "cryptocurrency", "darknet", "dark web", "onion",
})
_ROAD_RE = re.compile(r"^(?:M|A|B)\d{1,4}(?:\(M\))?$")
VEHICLE_MAKES: frozenset[str] = frozenset({
    "Audi", "BMW", "Mercedes", "Mercedes-Benz", "Volkswagen", "VW", "Ford", "Vauxhall", "Toyota", "Honda",
    "Nissan", "Range Rover", "Land Rover", "Porsche", "Lexus", "Peugeot", "Renault", "Citroen", "Citroën",
    "Fiat", "Skoda", "Seat", "Kia", "Hyundai", "Volvo", "Mini", "Tesla", "Jaguar", "Mazda", "Suzuki",
    "Lamborghini", "Ferrari", "Bentley", "Maserati", "Iveco", "Scania", "DAF", "MAN", "Yamaha", "Kawasaki",
    # models written without their make ("a grey Transit")
    "Transit", "Sprinter", "Transporter", "Crafter", "Vito", "Ducato", "Boxer", "Berlingo", "Caddy",
    "Golf", "Polo", "Corsa", "Astra", "Fiesta", "Focus", "Qashqai", "Juke", "Clio", "Octavia", "Passat",
    "Evoque", "Hilux", "Prius", "Civic", "Yaris", "Kuga", "Insignia", "Sportage", "Tucson", "Vivaro",
})
_COLOURS = frozenset({"silver", "black", "white", "grey", "gray", "blue", "red", "green", "dark", "gold", "maroon"})
_VEHICLE_LEAD = frozenset({
    "a", "an", "his", "her", "their", "its", "stolen", "hired", "rented", "cloned", "unmarked", "parked",
    "abandoned", "burnt-out", "the", *_COLOURS,
})
#: Words after a name that make it a crime group; capitalised ones are part of the name.
GROUP_WORDS: frozenset[str] = frozenset({
    "cartel", "mafia", "clan", "syndicate", "ocg", "triad", "crime family", "organised crime group",
    "organized crime group", "gang",
})
_DETERMINERS = frozenset({"the", "The", "THE"})
_DETERMINERS_LOWER = frozenset({"the", "a", "an"})
#: Last words that make a name a physical location, whatever ``ner`` said ("the English Channel").
LOCATION_HEADS = frozenset({
    "Channel", "Sea", "Ocean", "Strait", "Straits", "Gulf", "Bay", "Estuary", "Firth", "River", "Mountains",
    "Islands", "Peninsula", "Canal", "Harbour", "Harbor",
})
MIN_CITY_AS_PERSON = 100_000  # a PERSON that is exactly a city this big is a GPE
#: One-word place names that are at least as often a given name or surname: a PERSON of this name
#: stays a person (with the gazetteer's stop list of such words, see :func:`_ambiguous_place_names`).
NAME_LIKE_PLACES: frozenset[str] = frozenset("""
    Jordan Sydney Paris Austin Dallas Orlando Devon Kent Chelsea Florence Georgia Victoria Adelaide Charlotte
    Eugene Lincoln Jackson Madison Savannah Brooklyn Regina Chester Carson Preston Darwin Hamilton Milton
    Clifton Kingston Quincy Tyler Troy Warren Marion Lorraine Aurora Alexandria Sofia Valencia Santiago
    Lourdes Florida Ashley Shannon Kimberley Beverly Camden Denver Houston Nelson Paisley Raleigh Stirling
""".split())


# --- data -------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def organisation_groups(path: Path = ORGANISATIONS_FILE) -> dict[str, tuple[str, ...]]:
    """``{group: names}`` from the organisations file (read once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        str(group): tuple(sorted({str(n).strip() for n in names or () if str(n).strip()}))
        for group, names in data.items()
    }


def organisation_names(path: Path = ORGANISATIONS_FILE) -> list[str]:
    """Every listed organisation name, sorted."""
    return sorted({n for names in organisation_groups(path).values() for n in names})


@lru_cache(maxsize=2)
def organisations_version(path: Path = ORGANISATIONS_FILE) -> str:
    """Short digest of the organisations file, for ``Document.enrichment``."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@lru_cache(maxsize=1)
def _short_org_names() -> frozenset[str]:
    """Words of listed bank, platform, company and operator names ("Santander" of "Banco Santander")."""
    groups = organisation_groups()
    words = {w for g in _SHORT_NAME_GROUPS for name in groups.get(g, ()) for w in name.split() if w[:1].isupper()}
    return frozenset(words) | frozenset(organisation_names())


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Names of GeoNames cities (15,000+), countries, regions and the gazetteer's ports."""
    from nlp.geo import COUNTRY_ALIASES, PORTS  # the gazetteer's own hand lists; no index is built

    names = {c["name"] for c in geonames.cities().values()}
    names |= {c["name"] for c in geonames.countries().values()} | set(COUNTRY_ALIASES)
    names |= {n for name, (_, _, _, aliases) in PORTS.items() for n in (name, *aliases)}
    names |= {r.name for r in load_regions() if not r.qualifier_only}
    return frozenset(names)


@lru_cache(maxsize=1)
def city_names(min_population: int = MIN_CITY_AS_PERSON) -> frozenset[str]:
    """Names of cities of ``min_population`` or more (GeoNames, shared with the gazetteer)."""
    return frozenset(c["name"] for c in geonames.cities().values() if int(c.get("population") or 0) >= min_population)


# --- ruler patterns ---------------------------------------------------------------------------


def _name_patterns() -> list[dict[str, object]]:
    return [{"label": "ORG", "pattern": name, "id": RULER_ID} for name in organisation_names()]


def _shape_patterns() -> list[dict[str, object]]:
    not_start = {"NOT_IN": sorted(_NOT_NAME_START)}
    name_tok = {"IS_TITLE": True, "LOWER": not_start}
    upper_tok = {"IS_UPPER": True, "LENGTH": {">=": 2}, "LOWER": not_start}
    shapes: list[list[dict[str, object]]] = []
    for lead in (name_tok, upper_tok):
        shapes.append([
            {**lead, "OP": "+"}, {"ORTH": {"IN": ["Police", "Constabulary", "Navy", "Coastguard", "Customs"]}},
            {"ORTH": {"IN": ["Service", "Department", "Force", "Authority"]}, "OP": "?"},
        ])
        shapes.append([{**lead, "OP": "+"}, {"ORTH": {"IN": ["Coast", "Border"]}}, {"ORTH": "Guard"}])
    shapes.append([
        {**name_tok, "OP": "+"},
        {"ORTH": {"IN": ["Crown", "Magistrates", "Magistrates'", "Sheriff", "County", "Youth", "Family",
                         "Coroner's", "Coroners", "Coroners'", "Justiciary", "District"]}},
        {"ORTH": {"IN": ["'", "'s"]}, "OP": "?"}, {"ORTH": "Court"},
    ])
    # Prisons, universities, councils.
    shapes.append([{"ORTH": {"IN": ["HMP", "HMYOI", "HMPYOI"]}}, {**name_tok, "OP": "+"}])
    shapes.append([{"ORTH": "HM"}, {"ORTH": "Prison"}, {**name_tok, "OP": "+"}])
    shapes.append([{"ORTH": "University"}, {"ORTH": "of"}, {"IS_TITLE": True, "OP": "+"}])
    shapes.append([{**name_tok, "OP": "+"}, {"ORTH": "University"}])
    shapes.append([
        {**name_tok, "OP": "+"}, {"ORTH": {"IN": ["City", "County", "Borough", "District", "Town", "Parish"]}, "OP": "?"},
        {"ORTH": "Council"},
    ])
    # Companies with a legal suffix: "Bramley Trading Ltd", "Baltic Fresh Produce BV".
    suffix: dict[str, object] = {"ORTH": {"IN": ["Ltd", "Ltd.", "Limited", "PLC", "plc", "LLP", "GmbH", "BV", "B.V.", "NV", "N.V.",
                              "SA", "S.A.", "SL", "S.L.", "SAS", "SARL", "Srl", "S.r.l.", "SpA", "S.p.A.", "Inc",
                              "Inc.", "LLC", "Corp", "Corp.", "AG", "KG", "Oy", "AB", "OÜ", "Sp. z o.o."]}}
    shapes.append([{"IS_TITLE": True, "OP": "+"}, suffix])
    shapes.append([{"IS_UPPER": True, "LENGTH": {">=": 2}, "OP": "+"}, suffix])
    return [{"label": "ORG", "pattern": p} for p in shapes]


def add_org_ruler(nlp: Language, *, shapes: bool, before_ner: bool = True) -> None:
    """Add ``osintel_org_ruler`` before ``ner`` (or last), with the listed names and optionally shapes."""
    if "osintel_org_ruler" in nlp.pipe_names:
        return
    # Before ner, listed names steer the English model around them; after it (trained pipelines),
    # they only fill gaps, so "BBC Symphony Orchestra" is not cut down to the listed "BBC".
    before = after = None
    if "ner" in nlp.pipe_names:
        before, after = ("ner", None) if before_ner else (None, "ner")
    ruler = nlp.add_pipe("entity_ruler", name="osintel_org_ruler", config={"overwrite_ents": before_ner},
                         before=before, after=after)
    ruler.add_patterns(_name_patterns() + (_shape_patterns() if shapes else []))  # type: ignore[attr-defined]


def add_rules(nlp: Language, *, place_label: str = "LOC", ruler_before_ner: bool = True) -> None:
    """Listed organisation names and the language-neutral fixes after ``ner`` (agency credits,
    teams named after towns, places read as people, streets, common words); idempotent.

    ``ruler_before_ner``: the listed names go before ``ner`` as an entity ruler (the French model,
    which reads around them); otherwise the fixes merge them into ``ner``'s entities, keeping a
    longer name the model found around a listed one ("BBC Symphony Orchestra").
    """
    if ruler_before_ner:
        add_org_ruler(nlp, shapes=False)
    if "osintel_entity_fixes" not in nlp.pipe_names:
        nlp.add_pipe("osintel_entity_fixes", last=True, config={
            "english": False, "place_label": place_label, "merge_listed": not ruler_before_ner,
        })


def add_english_rules(nlp: Language) -> None:
    """Add the organisation ruler before ``ner`` and the fixes after it (idempotent)."""
    add_org_ruler(nlp, shapes=True)
    if "osintel_entity_fixes" not in nlp.pipe_names:
        nlp.add_pipe("osintel_entity_fixes", after="ner", config={"english": True, "place_label": "GPE"})


# --- fixes after ner --------------------------------------------------------------------------


@Language.factory("osintel_entity_fixes", default_config={"english": True, "place_label": "GPE", "merge_listed": False})
def _make_entity_fixes(nlp: Language, name: str, english: bool, place_label: str, merge_listed: bool) -> EntityFixes:
    return EntityFixes(english=english, place_label=place_label, merge_listed=merge_listed,
                       make_doc=nlp.make_doc if merge_listed else None)


class EntityFixes:
    """Post-``ner`` corrections (see the module docstring); the English-only ones when ``english``.

    ``place_label`` is the label a corrected place gets: ``GPE`` in the English (OntoNotes)
    scheme, ``LOC`` for pipelines trained on PER/ORG/LOC.
    """

    def __init__(
        self, *, english: bool = True, place_label: str = "GPE", merge_listed: bool = False,
        make_doc: Callable[[str], Doc] | None = None,
    ) -> None:
        self.english = english
        self.place_label = place_label
        self.merge_listed = merge_listed
        self._make_doc = make_doc
        self._listed: PhraseMatcher | None = None

    def __call__(self, doc: Doc) -> Doc:
        if self.merge_listed and self._make_doc is not None:
            if self._listed is None:
                self._listed = PhraseMatcher(doc.vocab)
                self._listed.add(RULER_ID, [self._make_doc(n) for n in organisation_names()])
            doc.set_ents(_merge_listed(doc, list(doc.ents), self._listed))
        ents: list[Span] = []
        places = place_names()
        full_names = [e.text for e in doc.ents if e.label_ in {"PERSON", "PER"} and len(e) > 1]
        for original in doc.ents:
            ent = _trim(doc, original, english=self.english, place_label=self.place_label)
            fixed = self._fix(doc, original, ent, places, full_names)
            if fixed is not None:
                ents.append(fixed)
        if self.english:
            overrides = _people(doc) + _groups(doc, ents)
            if overrides:
                kept = [e for e in ents if not any(e.start < o.end and o.start < e.end for o in overrides)]
                ents = kept + overrides
            ents = [e for e in entity_cues.apply(doc, ents, place_label=self.place_label, keep=RULER_ID, places=places)
                    if e.label_ != entity_cues.DROP]
        ents = entity_context.one_sense_per_document(doc, filter_spans(ents), places=prominent_places())
        doc.set_ents(sorted(filter_spans(ents), key=lambda e: e.start))
        return doc

    def _fix(self, doc: Doc, original: Span, ent: Span, places: frozenset[str], full_names: list[str]) -> Span | None:
        """The corrected span for one entity, or None to drop it."""
        text = ent.text
        label = ent.label_
        person = label in {"PERSON", "PER"}
        listed = ent.ent_id_ == RULER_ID
        if not any(ch.isalpha() for ch in text):
            return None  # "🙏" as ORG
        if entity_context.is_agency_credit(doc, ent):
            return None  # "(EFE)", "(Reuters) -": the wire that filed the story
        if not self.english and not listed and sum(
            1 for t in ent if t.is_alpha and t.is_lower and t.lower_ not in _CONNECTIVES
        ) >= 3:
            return None  # a trained model running a "name" over a clause ("Parte del dinero se movía ...")
        if not self.english and not listed and text not in places and _only_common_words(ent, doc.lang_):
            return None  # "Unterlagen", "Montag" as names: a trained model's capitalised common words
        if label in {"ORG", "PERSON", "PER", "GPE", "NORP", "MISC"} and (text in CODE_TOKENS or text.lower() in NOT_NAMES):
            return None
        if label in {"ORG", "PERSON", "PER", "GPE", "PRODUCT", "CARDINAL"} and _ROAD_RE.match(text):
            return Span(doc, ent.start, ent.end, label="FAC" if self.english else "LOC")
        if person and not listed and entity_context.street_span(ent):
            return Span(doc, ent.start, ent.end, label="FAC" if self.english else "LOC")  # "Holloway Lane"
        if (person or label == "ORG") and len(ent) == 1 and not listed:
            longer = entity_context.place_extension(doc, ent, places)
            if longer is not None:
                return Span(doc, longer.start, longer.end, label=self.place_label)  # "King's Lynn"
        if text in places and text not in _countries() and entity_context.is_team_by_town(doc, ent):
            return Span(doc, ent.start, ent.end, label="ORG")  # "Bowling Green beat Tulsa 24-7"
        if label in {"ORG", "PERSON", "PER"} and not listed and len(text) > 3 and text.isupper() and text.title() in places:
            return Span(doc, ent.start, ent.end, label=self.place_label)  # "MADRID, 3 Feb" in a dateline
        if (
            self.english and label == "ORG" and not listed and len(ent) == 1 and not text.isupper()
            and text not in places and entity_context.referred_to_as_person(doc, ent)
        ):
            return Span(doc, ent.start, ent.end, label="PERSON")  # "Orsatti ... by his father"
        if self.english and label == "ORG" and _is_vehicle(doc, ent):
            return None
        if self.english and label == "ORG" and not listed and len(ent) > 1 and ent[-1].text in LOCATION_HEADS:
            return Span(doc, ent.start, ent.end, label="LOC")
        # "the Meridian crew", "the Meridian": a determiner or a trailing noun reads as a group.
        org_context = ent.end < original.end or (
            ent.start > 0 and doc[ent.start - 1].lower_ in _DETERMINERS_LOWER and text not in _countries()
        )  # "the Soviet Union" is still a country
        if self.english and label == "ORG" and not (listed or org_context) and text in places and text not in _short_org_names():
            return Span(doc, ent.start, ent.end, label=self.place_label)  # "Felixstowe", "Dundee" as ORG
        if (
            not self.english and label == "ORG" and not listed
            and (text in prominent_places() or text in _city_alternate_names())
            and text not in _short_org_names() and not entity_context.is_team_by_town(doc, ent)
        ):
            return Span(doc, ent.start, ent.end, label=self.place_label)  # "a Napoli" as its football club
        if label == "NORP" and text in places:
            return Span(doc, ent.start, ent.end, label=self.place_label)  # "from Bucharest" as a nationality
        if person and len(ent) <= 3 and entity_context.after_locative(doc, ent):
            if not entity_context.person_context(doc, ent, full_names):
                return Span(doc, ent.start, ent.end, label=self.place_label)  # "a manor in Marszew"
        if person and text in prominent_places() and text not in _ambiguous_place_names():
            if not entity_context.person_context(doc, ent, full_names):
                return Span(doc, ent.start, ent.end, label=self.place_label)  # "Holyhead", "Calais"
        if self.english and person and entity_names.place_not_person_name(ent, places):
            if not entity_context.person_context(doc, ent, full_names):
                return Span(doc, ent.start, ent.end, label=self.place_label)  # "Bexhill": a town, no one's name
        return ent


@lru_cache(maxsize=1)
def prominent_places() -> frozenset[str]:
    """Places a one-word PERSON is read as: countries, regions, listed ports and cities of
    100,000+ (smaller towns share their names with too many people: Davis, Taylor, Murphy)."""
    from nlp.geo import PORTS

    ports = {n for name, (_, _, _, aliases) in PORTS.items() for n in (name, *aliases)}
    regions = {r.name for r in load_regions() if not r.qualifier_only}
    return city_names() | _countries() | frozenset(ports) | frozenset(regions)


#: Articles that a trained model sometimes takes into a name ("La Guardia Civil", "het OM").
_ARTICLES = frozenset({"la", "el", "los", "las", "le", "les", "l'", "il", "lo", "gli", "i", "o", "a", "os", "as",
                       "de", "het", "der", "die", "das", "the"})


def _merge_listed(doc: Doc, ents: list[Span], matcher: PhraseMatcher) -> list[Span]:
    """Listed organisation names as ORG over ``ner``'s entities, unless ``ner`` found a longer
    name around one ("BBC Symphony Orchestra" keeps its length, "Guardia di Finanza" becomes ORG)."""
    found = filter_spans([Span(doc, s, e, label="ORG", span_id=RULER_ID) for _, s, e in matcher(doc)])
    for listed in found:
        around = [
            e for e in ents
            if e.start <= listed.start and listed.end <= e.end and len(e) > len(listed) and e.label_ == "ORG"
            and any(t.lower_ not in _ARTICLES for t in doc[e.start : listed.start])
            | any(t.lower_ not in _ARTICLES for t in doc[listed.end : e.end])
        ]
        if around:
            continue  # a longer organisation name around a listed one
        ents = [e for e in ents if not (e.start < listed.end and listed.start < e.end)] + [listed]
    return sorted(ents, key=lambda e: e.start)


@lru_cache(maxsize=1)
def _city_alternate_names() -> frozenset[str]:
    """Names of cities of 100,000+ in other languages ("Napoli", "Köln", "Sevilla")."""
    names: set[str] = set()
    for city in geonames.cities().values():
        if int(city.get("population") or 0) >= MIN_CITY_AS_PERSON:
            names.update(a for a in city.get("alternatenames") or () if a[:1].isupper())
    return frozenset(names)


@lru_cache(maxsize=1)
def _ambiguous_place_names() -> frozenset[str]:
    """Place names that are as often a person's name or a word (a PERSON of that name stays one)."""
    from nlp.geo import STOPLIST

    return NAME_LIKE_PLACES | frozenset(w.title() for w in STOPLIST)


COMMON_WORDS_DIR = Path(__file__).parent / "data" / "common_words"
#: German noun endings: a long capitalised word ending so is a noun, not a name ("Risikoreduzierung").
_GERMAN_NOUN_ENDINGS = (
    "ung", "ungen", "heit", "heiten", "keit", "keiten", "schaft", "schaften", "tion", "tionen", "tät", "täten",
    "ismus", "nahme", "nahmen", "ment", "mente", "ling", "linge", "nis", "nisse", "tum", "tümer", "wesen",
)


@lru_cache(maxsize=16)
def common_words(lang: str) -> frozenset[str]:
    """Capitalised words of ``lang`` that are almost never names (``tools/ner/common_words.py``)."""
    path = COMMON_WORDS_DIR / f"{lang}.txt"
    if not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))


def _only_common_words(ent: Span, lang: str) -> bool:
    """True when every capitalised word of ``ent`` is a common word of ``lang`` (or, in German, a
    long word with a noun ending) and the entity has no other word that could carry a name."""
    words = [t for t in ent if t.is_alpha]
    if not words or any(not t.text[:1].isupper() and t.lower_ not in _CONNECTIVES for t in words):
        return False
    capitalised = [t for t in words if t.text[:1].isupper()]
    common = common_words(lang)
    for t in capitalised:
        noun = lang == "de" and len(t.text) >= 8 and t.lower_.endswith(_GERMAN_NOUN_ENDINGS)
        if t.text not in common and not noun:
            return False
    return bool(capitalised)


#: Lower-case words inside names ("Partido de la Libertad", "Ouderkerk aan de Amstel", "Frankfurt am Main").
_CONNECTIVES = frozenset({
    "der", "die", "das", "des", "dem", "den", "und", "von", "vom", "zu", "zur", "zum", "am", "im", "an", "auf", "bei",
    "de", "del", "la", "el", "los", "las", "y", "e", "do", "da", "dos", "das", "van", "het", "en", "et", "du", "le",
    "les", "aan", "op", "ten", "ter", "of", "the", "and", "di", "della", "dei", "degli", "delle", "il", "lo", "a",
    "à", "al", "au", "aux", "sur", "sous", "em", "na", "no", "nas", "nos", "in", "für", "per", "para", "por", "für",
})


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """Country names and aliases (a national team keeps its place label)."""
    from nlp.geo import COUNTRY_ALIASES

    return frozenset(c["name"] for c in geonames.countries().values()) | frozenset(COUNTRY_ALIASES)


def _trim(doc: Doc, ent: Span, *, english: bool = True, place_label: str = "GPE") -> Span:
    """Consistent spans: no lower-case leading "the" (a capitalised "The" inside a sentence is part
    of the name: "the band The Zutons", "The Sunday Times"), no trailing possessive or dangling
    punctuation ("Pellow 's", "Smith &"), no trailing lower-case word on an ORG, and no line break:
    the text reaches the model with wrapped lines already joined (:func:`nlp.segment.unwrap_lines`),
    so a break left inside a name ends it (a headline's last word and the next line's first)."""
    start, end = ent.start, ent.end
    label = ent.label_
    for i in range(start, end):
        if doc[i].is_space and "\n" in doc[i].text:
            if i > start:
                end = i
            elif i + 1 < end:
                start = i + 1
            # the label may have come from the word cut off ("Grimsby\nPolice" as ORG)
            if label in {"ORG", "FAC", "PERSON"} and doc[start:end].text in place_names():
                label = place_label
            break
    while end - start > 1 and doc[end - 1].is_space:
        end -= 1
    while end - start > 1 and doc[start].is_space:
        start += 1
    first = doc[start]
    if english and first.text in _DETERMINERS and end - start > 1 and ent.text not in place_names():
        if first.text != "The" or first.is_sent_start or (start > 0 and doc[start - 1].is_punct):
            start += 1
    while end - start > 1 and doc[start].lower_ in _INTERJECTIONS:
        start += 1  # "omg amy schumer", "wow Emma"
    while end - start > 1 and (doc[end - 1].lower_ in _POSSESSIVES or doc[end - 1].text in _DANGLING):
        end -= 1
    if english and ent.label_ == "ORG":  # "the Sinaloa cartel"; other languages name in lower case
        while end - start > 1 and doc[end - 1].is_lower and doc[end - 1].is_alpha:
            end -= 1
    if (start, end, label) == (ent.start, ent.end, ent.label_):
        return ent
    return Span(doc, start, end, label=label, span_id=ent.ent_id_)


_POSSESSIVES = frozenset({"'s", "’s", "'", "’"})
_INTERJECTIONS = frozenset({"omg", "lol", "wow", "hey", "hi", "yo", "thanks", "thank", "dear", "rip", "ok", "ugh",
                            "lmao", "haha", "congrats", "love", "bless"})
_DANGLING = frozenset({"&", ",", "-", "–", "(", "/", ":", ";"})


def _is_vehicle(doc: Doc, ent: Span) -> bool:
    words = [t.text for t in ent if t.lower_ not in _COLOURS]
    leading_colour = len(words) < len(ent)
    make = " ".join(words) if " ".join(words) in VEHICLE_MAKES else (words[0] if words else "")
    if make not in VEHICLE_MAKES:
        return False
    if leading_colour:
        return True  # "Grey Transit"
    i = ent.start - 1
    while i >= 0 and doc[i].lower_ in _VEHICLE_LEAD - {"a", "an", "his", "her", "their", "its", "the"}:
        i -= 1
    return i >= 0 and doc[i].lower_ in _VEHICLE_LEAD


_MATCHERS: dict[tuple[int, str], Matcher] = {}


def _matcher(vocab: Vocab, kind: str) -> Matcher:
    key = (id(vocab), kind)
    if key not in _MATCHERS:
        matcher = Matcher(vocab)
        name = {"IS_TITLE": True, "IS_ALPHA": True}
        if kind == "person":
            age = {"SHAPE": "dd"}
            matcher.add("PERSON_AGE", [
                [name, name, {"ORTH": ","}, age, {"ORTH": ","}],
                [name, name, name, {"ORTH": ","}, age, {"ORTH": ","}],
                [name, {"ORTH": "-"}, name, name, {"ORTH": ","}, age, {"ORTH": ","}],
            ])
        else:
            group_name = {"IS_TITLE": True, "LOWER": {"NOT_IN": sorted(_NOT_NAME_START)}}
            single = sorted(w for w in GROUP_WORDS if " " not in w)
            matcher.add("GROUP", [
                [{**group_name, "OP": "{1,3}"}, {"LOWER": {"IN": single}}],
                [{**group_name, "OP": "{1,3}"}, {"LOWER": "crime"}, {"LOWER": "family"}],
                [{**group_name, "OP": "{1,3}"}, {"LOWER": {"IN": ["organised", "organized"]}},
                 {"LOWER": "crime"}, {"LOWER": "group"}],
            ])
        _MATCHERS[key] = matcher
    return _MATCHERS[key]


def _people(doc: Doc) -> list[Span]:
    """"Firstname [Middle] Lastname, 34," (age in commas): a person, whatever ``ner`` said."""
    spans = [Span(doc, s, e - 3, label="PERSON") for _, s, e in _matcher(doc.vocab, "person")(doc)]
    return [p for p in filter_spans(spans) if p[0].lower_ not in _NOT_NAME_START]


def _groups(doc: Doc, ents: Sequence[Span]) -> list[Span]:
    """"the Kinahan cartel" -> ORG "Kinahan"; "the Sinaloa Cartel" -> ORG "Sinaloa Cartel".

    Not when ``ner`` called the name a nationality ("the Albanian mafia" is a NORP and a noun), nor
    when the name is a place ("a Liverpool gang").
    """
    norp = {i for e in ents if e.label_ == "NORP" for i in range(e.start, e.end)}
    found = []
    for _, start, end in _matcher(doc.vocab, "group")(doc):
        if any(i in norp for i in range(start, end)):
            continue
        if end - start == 2 and doc[start].is_sent_start:
            continue  # "Street gang ..." opening a sentence: the capital is the sentence's
        while end - start > 1 and doc[end - 1].is_lower:
            end -= 1  # the lower-case group word is not part of the name
        if doc[end - 1].is_title and doc[start:end].text in place_names():
            continue  # "a Liverpool gang": a gang from a place, not a named group
        found.append(Span(doc, start, end, label="ORG"))
    return filter_spans(found)


# --- languages without a spaCy model ------------------------------------------------------------


class OrganisationMatcher:
    """Listed organisation names in text of any language, on spaCy's multilingual tokenizer."""

    def __init__(self, *, batch_size: int = 64) -> None:
        self.nlp: Language = spacy.blank("xx")
        add_org_ruler(self.nlp, shapes=False)
        self.batch_size = batch_size
        self.version = f"organisations-{organisations_version()}"

    def spans(self, texts: Iterable[str]) -> Iterator[list[tuple[int, int, str]]]:
        """``(start, end, text)`` of the organisations found in each text, in order."""
        for doc in self.nlp.pipe(texts, batch_size=self.batch_size):
            yield [(e.start_char, e.end_char, e.text) for e in doc.ents]
