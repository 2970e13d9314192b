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

The French pipeline gets the organisation names (not the English shapes) before its ``ner``.
Languages without a spaCy model get :class:`OrganisationMatcher`: the same names matched on a
multilingual tokenizer, so "la Guardia Civil" or "das Bundeskriminalamt" are ORG in any language.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import spacy
import yaml
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from nlp import geonames
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
    suffix = {"ORTH": {"IN": ["Ltd", "Ltd.", "Limited", "PLC", "plc", "LLP", "GmbH", "BV", "B.V.", "NV", "N.V.",
                              "SA", "S.A.", "SL", "S.L.", "SAS", "SARL", "Srl", "S.r.l.", "SpA", "S.p.A.", "Inc",
                              "Inc.", "LLC", "Corp", "Corp.", "AG", "KG", "Oy", "AB", "OÜ", "Sp. z o.o."]}}
    shapes.append([{"IS_TITLE": True, "OP": "+"}, suffix])
    shapes.append([{"IS_UPPER": True, "LENGTH": {">=": 2}, "OP": "+"}, suffix])
    return [{"label": "ORG", "pattern": p} for p in shapes]


def add_org_ruler(nlp: Language, *, shapes: bool) -> None:
    """Add ``osintel_org_ruler`` before ``ner`` (or last), with the listed names and optionally shapes."""
    if "osintel_org_ruler" in nlp.pipe_names:
        return
    where = {"before": "ner"} if "ner" in nlp.pipe_names else {}
    ruler = nlp.add_pipe("entity_ruler", name="osintel_org_ruler", config={"overwrite_ents": True}, **where)
    ruler.add_patterns(_name_patterns() + (_shape_patterns() if shapes else []))  # type: ignore[attr-defined]


def add_english_rules(nlp: Language) -> None:
    """Add the organisation ruler before ``ner`` and the fixes after it (idempotent)."""
    add_org_ruler(nlp, shapes=True)
    if "osintel_entity_fixes" not in nlp.pipe_names:
        nlp.add_pipe("osintel_entity_fixes", after="ner")


# --- fixes after ner --------------------------------------------------------------------------


@Language.component("osintel_entity_fixes")
def _entity_fixes(doc: Doc) -> Doc:
    """Post-``ner`` corrections; see the module docstring."""
    ents: list[Span] = []
    places = place_names()
    for original in doc.ents:
        ent = _trim(doc, original)
        text = ent.text
        # "the Meridian crew", "the Meridian": a determiner or a trailing noun reads as a group.
        org_context = ent.end < original.end or (ent.start > 0 and doc[ent.start - 1].lower_ in _DETERMINERS_LOWER)
        listed = ent.ent_id_ == RULER_ID
        if not any(ch.isalpha() for ch in text):
            continue  # "🙏" as ORG
        if ent.label_ in {"ORG", "PERSON", "GPE", "NORP"} and (text in CODE_TOKENS or text.lower() in NOT_NAMES):
            continue
        if ent.label_ in {"ORG", "PERSON", "GPE", "PRODUCT", "CARDINAL"} and _ROAD_RE.match(text):
            ents.append(Span(doc, ent.start, ent.end, label="FAC"))
            continue
        if ent.label_ == "ORG" and _is_vehicle(doc, ent):
            continue
        if ent.label_ == "ORG" and not listed and len(ent) > 1 and ent[-1].text in LOCATION_HEADS:
            ents.append(Span(doc, ent.start, ent.end, label="LOC"))
            continue
        if ent.label_ == "ORG" and not (listed or org_context) and text in places and text not in _short_org_names():
            ents.append(Span(doc, ent.start, ent.end, label="GPE"))  # "Felixstowe", "Dundee" as ORG
            continue
        if ent.label_ == "NORP" and text in places:
            ents.append(Span(doc, ent.start, ent.end, label="GPE"))  # "from Bucharest" as a nationality
            continue
        if ent.label_ == "PERSON" and text in city_names():
            ents.append(Span(doc, ent.start, ent.end, label="GPE"))
            continue
        ents.append(ent)
    overrides = _people(doc) + _groups(doc, ents)
    if overrides:
        kept = [e for e in ents if not any(e.start < o.end and o.start < e.end for o in overrides)]
        ents = filter_spans(kept + overrides)
    doc.set_ents(sorted(ents, key=lambda e: e.start))
    return doc


def _trim(doc: Doc, ent: Span) -> Span:
    """No leading "the" on a name (unless "The Hague"); no trailing lower-case word on an ORG."""
    start, end = ent.start, ent.end
    if doc[start].text in _DETERMINERS and end - start > 1 and ent.text not in place_names():
        start += 1
    if ent.label_ == "ORG":
        while end - start > 1 and doc[end - 1].is_lower and doc[end - 1].is_alpha:
            end -= 1
    if (start, end) == (ent.start, ent.end):
        return ent
    return Span(doc, start, end, label=ent.label_, span_id=ent.ent_id_)


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


def _matcher(vocab, kind: str) -> Matcher:  # type: ignore[no-untyped-def]
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
