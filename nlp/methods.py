"""Criminal-method (modus operandi) detection from the taxonomy in ``osintel/config/methods.yaml``.

The taxonomy is data: an analyst adds a method by adding an entry to the YAML file (parsed and
validated by :mod:`nlp.method_config`). Each entry has an ``id`` (``<category>.<name>``),
``label``, ``category``, ``description``, ``patterns`` (case-insensitive regular expressions per
language), ``examples`` (sentences the patterns must recognise; the test-suite checks them) and,
optionally, ``semantic_examples`` (more English sentences, in other words than the patterns),
``keywords`` (English cue words for semantic matching) and ``semantic_threshold``. Any problem in
the file is a :class:`~osintel.errors.ConfigError` naming the method.

Two matchers work on sentences, and a method is reported once per document:

* **patterns** (every language): the evidence is the sentence with the most distinct pattern hits.
  Pattern confidence grows with the number of distinct patterns that matched anywhere in the
  document (0.6 for one, +0.1 per further pattern, at most 0.95). English text is matched with
  the English patterns; any other language with all of them, its own first (short texts are often
  mis-identified between neighbouring languages). Matching runs on lower-cased text with
  lower-cased patterns, three times faster than ``re.IGNORECASE``.
* **semantic** (English documents, when a :class:`~nlp.embeddings.SentenceEncoder` is attached):
  the prototypes of a method are its English ``examples`` and its ``semantic_examples``, embedded
  once when the taxonomy is built. A few sentences per document are embedded: those with at least
  ``MIN_EMBEDDED_CUES`` crime-domain cue words (the taxonomy's per-category ``semantic.cues`` and
  the methods' own ``keywords``), sentences no pattern explains first, then those with the most
  cues; one per document plus one per ``SENTENCES_PER_EMBEDDING`` sentences, at most
  ``MAX_SEMANTIC_SENTENCES``. A method hits when a sentence's best cosine similarity to its
  prototypes reaches the threshold, is within ``margin`` of the best method (and of the best
  ``background`` sentence) for that sentence, and the sentence has a cue of that method's
  category or keywords. The cue gate keeps the cost down and guards against paraphrases of
  ordinary life ("he let his friend use his flat") looking like crime.

``matched_by`` is ``pattern:<lang>``, ``semantic`` or ``pattern+semantic``; confidence combines
both (noisy-or, at most 0.95).
"""
from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from osintel.errors import ConfigError
from osintel.records import MethodHit

from nlp.method_config import (
    Method, SemanticConfig, lowercase_pattern, parse_method, parse_semantic, read_yaml_file,
)

if TYPE_CHECKING:
    from nlp.embeddings import SentenceEncoder

log = logging.getLogger(__name__)

# Sentence boundaries for languages without a spaCy pipeline: end punctuation (and closing
# quotes) followed by white space, or a line break. "£1.2m", "40.000" and ".onion" do not split.
_BOUNDARY_RE = re.compile(r"(?<=[.!?])[\"'’”»)]*\s+|\s*\n\s*")

BASE_CONFIDENCE = 0.6
STEP_CONFIDENCE = 0.1
MAX_CONFIDENCE = 0.95
#: Semantic-only confidence runs from SEMANTIC_BASE at the threshold to SEMANTIC_TOP at similarity 1.
SEMANTIC_BASE = 0.45
SEMANTIC_TOP = 0.8
#: Sentences embedded per document: one, plus one per SENTENCES_PER_EMBEDDING sentences of text,
#: at most MAX_SEMANTIC_SENTENCES (those no pattern explains first, then by cue words): embedding
#: is the expensive step, so its cost grows with the text, slowly.
SENTENCES_PER_EMBEDDING = 20
MAX_SEMANTIC_SENTENCES = 3
#: Cue words a sentence needs before it is embedded at all: sentences with one crime word are the
#: most numerous candidates in crime news and the least likely to describe a method.
MIN_EMBEDDED_CUES = 2
#: Cue words for a hit at the method's own threshold: one crime word is too common in crime news.
MIN_SEMANTIC_CUES = 2
#: When MIN_EMBEDDED_CUES is below MIN_SEMANTIC_CUES, a sentence with fewer cue words is still
#: compared, but only counts as a hit when its similarity clears the method's threshold by this
#: much (a close paraphrase of an example with only one crime word). Embedding only sentences with
#: two cues cost 0.008 F1 on the development set and a quarter of the encoder time on the demo
#: corpus, so by default such sentences are not embedded.
SINGLE_CUE_EXTRA = 0.1
#: Sentences shorter than this many words carry too little meaning to compare.
MIN_SEMANTIC_WORDS = 5

#: One document for :meth:`MethodTaxonomy.match_batch`: text, sentence spans, language (or None).
MatchInput = tuple[str, Sequence[tuple[int, int]], "str | None"]


def split_sentences(text: str, *, offset: int = 0) -> list[tuple[int, int]]:
    """Regex sentence splitter: ``(start, end)`` spans of non-blank sentences, shifted by ``offset``.

    Good enough for news prose; used for languages without a loaded spaCy pipeline.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for m in _BOUNDARY_RE.finditer(text):
        _append_span(text, cursor, m.start(), offset, spans)
        cursor = m.end()
    _append_span(text, cursor, len(text), offset, spans)
    return spans


def _append_span(text: str, start: int, end: int, offset: int, spans: list[tuple[int, int]]) -> None:
    segment = text[start:end]
    if not segment.strip():
        return
    start += len(segment) - len(segment.lstrip())
    end -= len(segment) - len(segment.rstrip())
    spans.append((start + offset, end + offset))


@dataclass
class _PatternResult:
    lang: str
    start: int
    end: int
    distinct: int
    sentences: set[int] = field(default_factory=set)  # starts of every sentence with a hit


@dataclass
class _SemanticResult:
    start: int
    end: int
    similarity: float


class MethodTaxonomy:
    """The loaded, validated taxonomy and the matcher over it.

    Without an ``encoder`` only patterns are used. With one, the English examples of every method
    are embedded here, once, and English sentences are also matched semantically.
    """

    def __init__(
        self,
        methods: Sequence[Method],
        *,
        categories: dict[str, str],
        digest: str = "",
        semantic: SemanticConfig | None = None,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        self.methods = list(methods)
        self.categories = dict(categories)
        self.digest = digest
        self.by_id = {m.id: m for m in self.methods}
        self.semantic = semantic or SemanticConfig()
        self.encoder = encoder
        self.stats: dict[str, int] = {}
        # The same patterns and cues for lower-cased text (see lowercase_pattern): the fast path.
        self._lowered = [_lowered(m) for m in self.methods]
        self._lowered_cues = {category: lowercase_pattern(cue) for category, cue in self.semantic.cues.items()}
        # English example embeddings, stacked and grouped by method (_group_starts: first row of
        # each method in _semantic_methods); _background: the no-method sentences.
        self._examples = np.zeros((0, 0), dtype=np.float32)
        self._background = np.zeros((0, 0), dtype=np.float32)
        self._semantic_methods: list[int] = []
        self._any_cue: re.Pattern[str] | None = None
        self._group_starts = np.zeros(0, dtype=np.int64)
        if encoder is not None:
            self._embed_examples(encoder)

    def _embed_examples(self, encoder: SentenceEncoder) -> None:
        sentences: list[str] = []
        owners: list[int] = []
        for index, method in enumerate(self.methods):
            if method.category not in self.semantic.cues and method.keywords is None:
                continue  # no cue could ever admit a sentence for it
            for sentence in method.prototypes:
                sentences.append(sentence)
                owners.append(index)
        self._examples = encoder.encode(sentences)
        self._background = encoder.encode(list(self.semantic.background))
        self._semantic_methods = sorted(set(owners))
        # Every cue and keyword in one regex: a quick count ranks the sentences of a document, and
        # only the few chosen ones go through _cue_methods (which methods their cues admit).
        every_cue = [cue.pattern for cue in self._lowered_cues.values()]
        every_cue += [keywords.pattern for i in self._semantic_methods
                      if (keywords := self._lowered[i].keywords) is not None]
        self._any_cue = re.compile("|".join(f"(?:{c})" for c in every_cue)) if every_cue else None
        self._group_starts = np.asarray([owners.index(i) for i in self._semantic_methods], dtype=np.int64)
        log.info("embedded %d examples of %d methods for semantic matching", len(sentences), len(self._semantic_methods))

    @property
    def encoder_version(self) -> str | None:
        """The sentence encoder's name and version, or ``None`` when matching by patterns only."""
        return self.encoder.version if self.encoder is not None else None

    # --- loading ----------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, *, encoder: SentenceEncoder | None = None) -> MethodTaxonomy:
        """Load and validate a taxonomy file; :class:`ConfigError` on any problem.

        With an ``encoder``, English sentences are matched semantically as well as by patterns.
        """
        data, digest = read_yaml_file(Path(path), "methods file")
        return cls.from_dict(data, origin=str(path), encoder=encoder, digest=digest)

    @classmethod
    def from_dict(
        cls, data: Any, *, origin: str = "methods", encoder: SentenceEncoder | None = None, digest: str = ""
    ) -> MethodTaxonomy:
        """Validate parsed YAML (``{"categories": {...}, "semantic": {...}, "methods": [...]}``)."""
        if not isinstance(data, dict):
            raise ConfigError(f"{origin}: top level must be a mapping with 'categories' and 'methods'")
        categories = data.get("categories")
        entries = data.get("methods")
        if not isinstance(categories, dict) or not categories:
            raise ConfigError(f"{origin}: 'categories' must be a non-empty mapping of id to label")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{origin}: 'methods' must be a non-empty list")
        methods: list[Method] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            method = parse_method(entry, index, categories, origin)
            if method.id in seen:
                raise ConfigError(f"{origin}: method {method.id!r}: duplicate id")
            seen.add(method.id)
            methods.append(method)
        semantic = parse_semantic(data.get("semantic", {}), categories, origin)
        return cls(
            methods,
            categories={str(k): str(v) for k, v in categories.items()},
            digest=digest,
            semantic=semantic,
            encoder=encoder,
        )

    @property
    def languages(self) -> set[str]:
        """Languages that have at least one pattern."""
        return {lang for m in self.methods for lang in (*m.patterns, *m.guarded)}

    # --- matching ---------------------------------------------------------------------------

    def match(self, text: str, sentences: Sequence[tuple[int, int]], language: str | None) -> list[MethodHit]:
        """Methods found in one text; see :meth:`match_batch`."""
        return self.match_batch([(text, sentences, language)])[0]

    def match_batch(self, docs: Sequence[MatchInput]) -> list[list[MethodHit]]:
        """Methods found in each ``(text, sentence spans, language)``, one hit per method per text.

        English documents are matched with the English patterns; any other (or undetermined)
        language with all patterns, its own first. English documents are also matched semantically,
        with the chosen sentences of the whole batch embedded in one call.
        """
        patterns = [self._pattern_pass(text, sentences, language) for text, sentences, language in docs]
        semantic = self._semantic_pass(docs, patterns) if self.encoder is not None else [{} for _ in docs]
        out: list[list[MethodHit]] = []
        for (text, _, _), by_pattern, by_meaning in zip(docs, patterns, semantic):
            hits = []
            for index, method in enumerate(self.methods):
                hit = _combine(method, text, by_pattern.get(index), by_meaning.get(index), self._threshold(method))
                if hit is not None:
                    hits.append(hit)
            out.append(hits)
        return out

    def _threshold(self, method: Method) -> float:
        return method.semantic_threshold if method.semantic_threshold is not None else self.semantic.threshold

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    # --- patterns ---------------------------------------------------------------------------

    def _pattern_pass(
        self, text: str, sentences: Sequence[tuple[int, int]], language: str | None
    ) -> dict[int, _PatternResult]:
        if language == "en":
            langs = ["en"]
        else:
            # The document's language first, then English (terms of art such as "county lines"
            # travel), then the rest: short texts are often mis-identified between neighbouring
            # languages (pt/es/it, nl/de), and a French pattern cannot fire on English anyway.
            langs = sorted(self.languages, key=lambda lang: (lang != language, lang != "en", lang))
        lowered = text.lower()
        # str.lower() keeps offsets except for a few letters ("İ" becomes two characters).
        methods, text = (self._lowered, lowered) if len(lowered) == len(text) else (self.methods, text)
        found: dict[int, _PatternResult] = {}
        for index, method in enumerate(methods):
            result = _match_patterns(method, text, sentences, langs)
            if result is not None:
                found[index] = result
        return found

    # --- semantic ---------------------------------------------------------------------------

    def _quick_cues(self, sentence: str) -> int:
        """Cue words in a sentence, each counted once (a lower bound of :meth:`_cue_methods`' count)."""
        if self._any_cue is None:
            return 0
        lowered = sentence.lower()
        if len(lowered) != len(sentence):
            return self._cue_methods(sentence)[0]
        return len(self._any_cue.findall(lowered))

    def _cue_methods(self, sentence: str) -> tuple[int, list[int]]:
        """Cue words found in a sentence and the methods they admit (category cues, own keywords)."""
        cues = 0
        categories = set()
        lowered = sentence.lower()
        methods, cue_patterns = self.methods, self.semantic.cues
        if len(lowered) == len(sentence):
            methods, cue_patterns, sentence = self._lowered, self._lowered_cues, lowered
        for category, cue in cue_patterns.items():
            found = len(cue.findall(sentence))
            if found:
                categories.add(category)
                cues += found
        allowed = []
        for index in self._semantic_methods:
            method = methods[index]
            own = len(method.keywords.findall(sentence)) if method.keywords is not None else 0
            cues += own
            if own or method.category in categories:
                allowed.append(index)
        return cues, allowed

    def _semantic_pass(
        self, docs: Sequence[MatchInput], patterns: Sequence[dict[int, _PatternResult]]
    ) -> list[dict[int, _SemanticResult]]:
        assert self.encoder is not None
        results: list[dict[int, _SemanticResult]] = [{} for _ in docs]
        # (doc index, start, end, allowed methods, single cue) for every sentence worth embedding
        candidates: list[tuple[int, int, int, list[int], bool]] = []
        for d, (text, sentences, language) in enumerate(docs):
            if language != "en" or not self._semantic_methods:
                continue
            # Sentences no pattern explains come first: the semantic pass is for what the patterns
            # miss. A sentence a pattern explains may still describe a second method ("a trafficked
            # teenager tending a cannabis factory"), so it can take a slot that is left over.
            explained = set().union(*(p.sentences for p in patterns[d].values()))
            ranked: list[tuple[bool, int, int, int]] = []
            for start, end in sentences:
                sentence = text[start:end]
                if len(sentence.split()) < MIN_SEMANTIC_WORDS:
                    continue
                quick = self._quick_cues(sentence)
                if quick >= MIN_EMBEDDED_CUES:
                    ranked.append((start in explained, -quick, start, end))
            ranked.sort()
            budget = min(MAX_SEMANTIC_SENTENCES, 1 + len(sentences) // SENTENCES_PER_EMBEDDING)
            for _, _, start, end in ranked[:budget]:
                cues, allowed = self._cue_methods(text[start:end])
                if allowed:
                    candidates.append((d, start, end, allowed, cues < MIN_SEMANTIC_CUES))
        self._count("methods/sentences_embedded", len(candidates))
        if not candidates:
            return results
        vectors = self.encoder.encode([docs[d][0][s:e] for d, s, e, _, _ in candidates])
        per_example = vectors @ self._examples.T  # cosine similarity: all vectors are unit-norm
        # Examples are stored grouped by method, so a reduceat gives each method's best example.
        best_per_method = np.full((len(candidates), len(self.methods)), -1.0, dtype=np.float32)
        best_per_method[:, self._semantic_methods] = np.maximum.reduceat(per_example, self._group_starts, axis=1)
        margin = self.semantic.margin
        if len(self._background):
            background = (vectors @ self._background.T).max(axis=1)
        else:
            background = np.full(len(candidates), -1.0, dtype=np.float32)
        for row, (d, start, end, allowed, single_cue) in enumerate(candidates):
            scores = best_per_method[row]
            # A method must be (nearly) the best of *all* methods, not just of those its cues admit,
            # and beat the best ordinary sentence by the margin as well.
            top = max(float(scores.max()), float(background[row]) + margin)
            for index in allowed:
                sim = float(scores[index])
                needed = self._threshold(self.methods[index]) + (SINGLE_CUE_EXTRA if single_cue else 0.0)
                if sim < needed or sim < top - margin:
                    continue
                current = results[d].get(index)
                if current is None or sim > current.similarity:
                    results[d][index] = _SemanticResult(start, end, sim)
        return results


def _match_patterns(
    method: Method, text: str, sentences: Sequence[tuple[int, int]], langs: list[str]
) -> _PatternResult | None:
    # Cheap pre-filter on the whole text; only patterns that occur are tried per sentence.
    present: list[tuple[str, re.Pattern[str]]] = [
        (lang, p) for lang in langs for p in method.patterns.get(lang, ()) if p.search(text)
    ]
    if method.guarded and (method.context is None or method.context.search(text)):
        present += [(lang, p) for lang in langs for p in method.guarded.get(lang, ()) if p.search(text)]
    if not present:
        return None
    matched: set[str] = set()
    hit_sentences: set[int] = set()
    best: tuple[int, int, int, str] | None = None  # (-count, start, end, lang)
    for start, end in sentences:
        sentence = text[start:end]
        found = [(lang, p) for lang, p in present if p.search(sentence)]
        if not found:
            continue
        hit_sentences.add(start)
        matched.update(p.pattern for _, p in found)
        key = (-len({p.pattern for _, p in found}), start, end, found[0][0])
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return None  # matched only across a sentence boundary
    _, start, end, lang = best
    return _PatternResult(lang=lang, start=start, end=end, distinct=len(matched), sentences=hit_sentences)


def _lowered(method: Method) -> Method:
    """The method with every regex in its lower-case form, for matching lower-cased text."""

    def lower_all(patterns: dict[str, tuple[re.Pattern[str], ...]]) -> dict[str, tuple[re.Pattern[str], ...]]:
        return {lang: tuple(lowercase_pattern(p) for p in plist) for lang, plist in patterns.items()}

    return dataclasses.replace(
        method,
        patterns=lower_all(method.patterns),
        guarded=lower_all(method.guarded),
        context=lowercase_pattern(method.context) if method.context is not None else None,
        keywords=lowercase_pattern(method.keywords) if method.keywords is not None else None,
    )


def pattern_confidence(distinct: int) -> float:
    """Confidence from the number of distinct patterns that matched in the document."""
    return min(MAX_CONFIDENCE, BASE_CONFIDENCE + STEP_CONFIDENCE * (distinct - 1))


def semantic_confidence(similarity: float, threshold: float) -> float:
    """Confidence of a semantic match: SEMANTIC_BASE at the threshold, SEMANTIC_TOP at similarity 1."""
    span = max(1e-6, 1.0 - threshold)
    share = min(1.0, max(0.0, (similarity - threshold) / span))
    return SEMANTIC_BASE + (SEMANTIC_TOP - SEMANTIC_BASE) * share


def _combine(
    method: Method,
    text: str,
    by_pattern: _PatternResult | None,
    by_meaning: _SemanticResult | None,
    threshold: float,
) -> MethodHit | None:
    if by_pattern is None and by_meaning is None:
        return None
    if by_pattern is not None:
        start, end = by_pattern.start, by_pattern.end
        confidence = pattern_confidence(by_pattern.distinct)
        matched_by = f"pattern:{by_pattern.lang}"
        if by_meaning is not None:
            # Two independent-ish lines of evidence: noisy-or, capped.
            semantic = semantic_confidence(by_meaning.similarity, threshold)
            confidence = min(MAX_CONFIDENCE, 1.0 - (1.0 - confidence) * (1.0 - semantic))
            matched_by = "pattern+semantic"
    else:
        assert by_meaning is not None
        start, end = by_meaning.start, by_meaning.end
        confidence = semantic_confidence(by_meaning.similarity, threshold)
        matched_by = "semantic"
    return MethodHit(
        id=method.id,
        label=method.label,
        category=method.category,
        confidence=round(confidence, 3),
        evidence=text[start:end],
        start=start,
        end=end,
        matched_by=matched_by,
    )
