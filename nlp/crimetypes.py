"""Crime types: the offence groups a document reports, from ``osintel/config/crimetypes.yaml``.

The scheme (Home Office notifiable-offence groups plus fraud and computer misuse; ids such as
``violence.homicide`` or ``theft.burglary``) is data, documented in the file's header and parsed by
:mod:`nlp.crimetype_config`. :class:`CrimeTypeClassifier` is built once per worker and labels a
batch with :meth:`~CrimeTypeClassifier.classify`; every label carries the sentence that shows it
(offsets into ``Document.text``), like a :class:`~osintel.records.MethodHit`.

Three sources of evidence, combined per type:

* **patterns** (every language): offence vocabulary per language, matched on the lower-cased text
  (English documents with the English patterns; any other or unknown language with all of them,
  its own first, as :mod:`nlp.methods` does). A match does not count when it overlaps a ``not``
  expression (the word in another sense: "robbed of a penalty"), when a negation is among the four
  words before it ("no one was stabbed"), or when its sentence is about fiction. The evidence is
  the sentence with the most distinct patterns of the type; confidence grows with the number of
  distinct patterns (:func:`nlp.methods.pattern_confidence`).
* **criminal methods** already found (``from_methods``: a ``drugs.*`` method implies drug
  trafficking, ``fraud.*`` fraud), with the method's evidence and confidence.
* **semantic** (English documents, when a :class:`~nlp.embeddings.SentenceEncoder` is attached):
  a few sentences no pattern explains, with a cue word, are compared with the English examples
  and ``semantic_examples`` of every type (:class:`nlp.prototypes.PrototypeSet`).

Finally ``supersedes`` drops types that a more serious or more specific one found in the same
document replaces (the Home Office principal-crime rule: a fatal stabbing is homicide).
``matched_by`` is ``pattern:<lang>``, ``method:<method id>``, ``semantic`` or a ``+`` join.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any


from osintel.records import CrimeType, MethodHit

from nlp.crimetype_config import CrimeScheme, CrimeTypeSpec, parse_scheme
from nlp.method_config import read_yaml_file
from nlp.methods import pattern_confidence, semantic_confidence
from nlp.prototypes import PrototypeSet, accepted

if TYPE_CHECKING:
    from nlp.embeddings import SentenceEncoder

log = logging.getLogger(__name__)

#: One document for :meth:`CrimeTypeClassifier.classify`: text, sentence spans, language (or
#: None) and the criminal methods already found in it.
ClassifyInput = tuple[str, Sequence[tuple[int, int]], "str | None", Sequence[MethodHit]]

#: Words before a match in which a negation cancels it.
NEGATION_WORDS = 4
MAX_CONFIDENCE = 0.95
#: Sentences embedded per English document: one, plus one per SENTENCES_PER_EMBEDDING sentences,
#: at most MAX_SEMANTIC_SENTENCES; only sentences no pattern explains, with a cue word.
SENTENCES_PER_EMBEDDING = 20
MAX_SEMANTIC_SENTENCES = 2
MIN_SEMANTIC_WORDS = 6
_WORD_RE = re.compile(r"\S+")


@dataclass
class _Found:
    """Evidence for one type in one document."""

    start: int = 0
    end: int = 0
    confidence: float = 0.0
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Prepared:
    """A type's patterns in the order they are tried for one document language."""

    spec: CrimeTypeSpec
    patterns: tuple[tuple[str, re.Pattern[str]], ...]


class CrimeTypeClassifier:
    """The loaded scheme and the classifier over it (patterns, methods, optional semantics)."""

    def __init__(self, scheme: CrimeScheme, *, encoder: SentenceEncoder | None = None) -> None:
        self.scheme = scheme
        self.digest = scheme.digest
        self.types = list(scheme.types)
        self.by_id = {t.id: t for t in self.types}
        self.encoder = encoder
        self.stats: dict[str, int] = {}
        self._order = {t.id: i for i, t in enumerate(self.types)}
        self._prepared: dict[str | None, list[_Prepared]] = {}
        self._prototypes: PrototypeSet | None = None
        self._cues: re.Pattern[str] | None = None
        if encoder is not None:
            self._embed_prototypes(encoder)

    # --- loading ----------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, *, encoder: SentenceEncoder | None = None) -> CrimeTypeClassifier:
        """Load and validate a scheme file; :class:`ConfigError` on any problem."""
        data, digest = read_yaml_file(Path(path), "crime-type file")
        return cls.from_dict(data, origin=str(path), encoder=encoder, digest=digest)

    @classmethod
    def from_dict(
        cls, data: Any, *, origin: str = "crimetypes", encoder: SentenceEncoder | None = None, digest: str = ""
    ) -> CrimeTypeClassifier:
        """Validate parsed YAML (``{"groups": {...}, "types": [...], ...}``)."""
        return cls(parse_scheme(data, origin=origin, digest=digest), encoder=encoder)

    def _embed_prototypes(self, encoder: SentenceEncoder) -> None:
        prototypes = {t.id: t.prototypes for t in self.types}
        self._prototypes = PrototypeSet(encoder, prototypes, self.scheme.semantic.background)
        cues = [p.pattern for p in (self.scheme.semantic.cues, *(t.keywords for t in self.types)) if p is not None]
        self._cues = re.compile("|".join(f"(?:{c})" for c in cues)) if cues else None
        log.info("embedded prototypes of %d crime types", len(self._prototypes))

    @property
    def encoder_version(self) -> str | None:
        """The sentence encoder's name and version, or ``None`` without the semantic layer."""
        return self.encoder.version if self.encoder is not None else None

    @property
    def languages(self) -> list[str]:
        return self.scheme.languages

    def label_of(self, type_id: str) -> str:
        """The analyst-facing label of a type id, or of a group id (``violence``)."""
        spec = self.by_id.get(type_id)
        return spec.label if spec is not None else self.scheme.groups.get(type_id, type_id)

    # --- classification ---------------------------------------------------------------------

    def classify_one(
        self,
        text: str,
        sentences: Sequence[tuple[int, int]],
        language: str | None,
        methods: Sequence[MethodHit] = (),
    ) -> list[CrimeType]:
        """Crime types of one text; see :meth:`classify`."""
        return self.classify([(text, sentences, language, methods)])[0]

    def classify(self, docs: Sequence[ClassifyInput]) -> list[list[CrimeType]]:
        """Crime types reported by each ``(text, sentence spans, language, methods)``.

        One label per type per text, most confident first. Sentences spans are offsets into the
        text (the enricher's spaCy sentences, or :func:`nlp.methods.split_sentences`).
        """
        found = [self._pattern_pass(text, sentences, language) for text, sentences, language, _ in docs]
        for d, (_, _, _, methods) in enumerate(docs):
            self._method_pass(methods, found[d])
        if self._prototypes is not None:
            self._semantic_pass(docs, found)
        out: list[list[CrimeType]] = []
        for (text, _, _, _), by_type in zip(docs, found):
            out.append(self._finish(text, by_type))
        self._count("crimetypes/documents", len(docs))
        self._count("crimetypes/labels", sum(len(labels) for labels in out))
        return out

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    def _finish(self, text: str, by_type: dict[str, _Found]) -> list[CrimeType]:
        replaced = {other for type_id in by_type for other in self.by_id[type_id].supersedes}
        kept = [(type_id, f) for type_id, f in by_type.items() if type_id not in replaced]
        kept.sort(key=lambda item: (-item[1].confidence, self._order[item[0]]))
        return [
            CrimeType(
                id=type_id,
                label=self.by_id[type_id].label,
                confidence=round(min(MAX_CONFIDENCE, f.confidence), 3),
                evidence=text[f.start : f.end],
                start=f.start,
                end=f.end,
                matched_by="+".join(f.sources),
            )
            for type_id, f in kept
        ]

    # --- patterns ---------------------------------------------------------------------------

    def _prepared_for(self, language: str | None) -> list[_Prepared]:
        key = "en" if language == "en" else language
        if key not in self._prepared:
            if key == "en":
                langs = ["en"]
            else:
                langs = sorted(self.languages, key=lambda lang: (lang != key, lang != "en", lang))
            prepared = []
            for spec in self.types:
                patterns = tuple((lang, p) for lang in langs for p in spec.patterns.get(lang, ()))
                prepared.append(_Prepared(spec, patterns))
            self._prepared[key] = prepared
        return self._prepared[key]

    def _pattern_pass(self, text: str, sentences: Sequence[tuple[int, int]], language: str | None) -> dict[str, _Found]:
        lowered = text.lower()
        if len(lowered) != len(text):  # a few letters change length when lower-cased ("İ")
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        spans = sorted(sentences)
        starts = [s for s, _ in spans]
        fiction = self.scheme.fiction
        fiction_sentences = {i for i, (s, e) in enumerate(spans) if fiction is not None and fiction.search(lowered, s, e)}
        global_vetoes: list[tuple[int, int]] | None = None
        found: dict[str, _Found] = {}
        for prepared in self._prepared_for(language):
            # Each pattern on its own: an alternation of them all loses the literal-prefix search
            # that makes a single lower-case pattern fast (measured: twice as slow).
            present = [(lang, p) for lang, p in prepared.patterns if p.search(lowered)]
            if not present:
                continue
            if global_vetoes is None:
                global_vetoes = [m.span() for v in self.scheme.vetoes for m in v.finditer(lowered)]
            type_vetoes = [m.span() for v in prepared.spec.vetoes for m in v.finditer(lowered)]
            vetoes = global_vetoes + type_vetoes
            per_sentence: dict[int, set[str]] = {}
            every: set[str] = set()
            first_lang: dict[int, str] = {}
            for lang, pattern in present:
                for m in pattern.finditer(lowered):
                    if m.end() == m.start():
                        continue
                    i = bisect.bisect_right(starts, m.start()) - 1
                    if i < 0 or m.start() >= spans[i][1] or i in fiction_sentences:
                        continue
                    if any(s < m.end() and m.start() < e for s, e in vetoes):
                        continue
                    if self._negated(lowered, spans[i][0], m.start(), lang, language):
                        self._count("crimetypes/negated")
                        continue
                    per_sentence.setdefault(i, set()).add(pattern.pattern)
                    first_lang.setdefault(i, lang)
                    every.add(pattern.pattern)
            if not per_sentence:
                continue
            best = min(per_sentence, key=lambda i: (-len(per_sentence[i]), i))
            start, end = spans[best]
            found[prepared.spec.id] = _Found(
                start, end, pattern_confidence(len(every)), [f"pattern:{first_lang[best]}"]
            )
        return found

    def _negated(self, lowered: str, sentence_start: int, match_start: int, lang: str, language: str | None) -> bool:
        words = _WORD_RE.findall(lowered, sentence_start, match_start)[-NEGATION_WORDS:]
        if not words:
            return False
        window = " ".join(words)
        for code in dict.fromkeys((lang, language)):
            negation = self.scheme.negation.get(code) if code else None
            if negation is not None and negation.search(window):
                return True
        return False

    # --- methods ----------------------------------------------------------------------------

    def _method_pass(self, methods: Sequence[MethodHit], found: dict[str, _Found]) -> None:
        mapping = self.scheme.from_methods
        for method in methods:
            if method.id in mapping:
                type_id = mapping[method.id]
            else:
                type_id = mapping.get(method.category)
            if type_id is None:
                continue
            current = found.get(type_id)
            if current is None:
                found[type_id] = _Found(
                    method.start or 0, method.end or 0, method.confidence, [f"method:{method.id}"]
                )
            elif not any(s.startswith("method:") for s in current.sources):
                current.confidence = 1.0 - (1.0 - current.confidence) * (1.0 - method.confidence)
                current.sources.append(f"method:{method.id}")

    # --- semantic ---------------------------------------------------------------------------

    def _semantic_pass(self, docs: Sequence[ClassifyInput], found: list[dict[str, _Found]]) -> None:
        assert self._prototypes is not None and self.encoder is not None
        candidates: list[tuple[int, int, int]] = []
        for d, (text, sentences, language, _) in enumerate(docs):
            if language != "en":
                continue
            explained = {(f.start, f.end) for f in found[d].values()}
            ranked: list[tuple[int, int, int]] = []
            for start, end in sentences:
                if (start, end) in explained:
                    continue
                sentence = text[start:end].lower()
                if len(sentence.split()) < MIN_SEMANTIC_WORDS or self._cues is None:
                    continue
                if self.scheme.fiction is not None and self.scheme.fiction.search(sentence):
                    continue
                cues = len(self._cues.findall(sentence))
                if cues:
                    ranked.append((-cues, start, end))
            ranked.sort()
            budget = min(MAX_SEMANTIC_SENTENCES, 1 + len(sentences) // SENTENCES_PER_EMBEDDING)
            candidates += [(d, start, end) for _, start, end in ranked[:budget]]
        self._count("crimetypes/sentences_embedded", len(candidates))
        if not candidates:
            return
        vectors = self.encoder.encode([docs[d][0][s:e] for d, s, e in candidates])
        best, background = self._prototypes.score(vectors)
        labels = self._prototypes.labels
        default = self.scheme.semantic.threshold
        thresholds = [
            self.by_id[label].semantic_threshold or default for label in labels
        ]
        for row, (d, start, end) in enumerate(candidates):
            for column, sim in accepted(
                best[row], float(background[row]), thresholds=thresholds, margin=self.scheme.semantic.margin
            ):
                type_id = labels[column]
                confidence = semantic_confidence(sim, thresholds[column])
                current = found[d].get(type_id)
                if current is None:
                    found[d][type_id] = _Found(start, end, confidence, ["semantic"])
                elif "semantic" not in current.sources:
                    current.confidence = 1.0 - (1.0 - current.confidence) * (1.0 - confidence)
                    current.sources.append("semantic")
