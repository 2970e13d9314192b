"""Criminal-method (modus operandi) detection from the taxonomy in ``config/methods.yaml``.

The taxonomy is data: an analyst adds a method by adding an entry to the YAML file. Each entry has
an ``id`` (``<category>.<name>``), ``label``, ``category``, ``description``, ``patterns`` (a list of
case-insensitive regular expressions per language), ``examples`` (sentences the patterns must
recognise; the test-suite checks them, and the English ones are the semantic prototypes) and,
optionally, ``keywords`` (English cue words for semantic matching) and ``semantic_threshold``. The
file is validated when it is loaded and any problem is a :class:`~osintel.errors.ConfigError`
naming the method.

Two matchers work on sentences, and a method is reported once per document:

* **patterns** (every language): the evidence is the sentence with the most distinct pattern hits.
  Pattern confidence grows with the number of distinct patterns that matched anywhere in the
  document (0.6 for one, +0.1 per further pattern, at most 0.95).
* **semantic** (English documents, when a :class:`~nlp.embeddings.SentenceEncoder` is attached):
  a sentence that contains a crime-domain cue (the taxonomy's per-category ``semantic.cues`` or
  a method's own ``keywords``) is embedded and compared with the method's English examples. A
  method hits when its best cosine similarity reaches the threshold, is within ``margin`` of the
  best method for that sentence, and the sentence has a cue of that method's category. Only
  cue-bearing sentences are embedded, which keeps the cost down and guards against paraphrases of
  ordinary life ("he let his friend use his flat") looking like crime.

``matched_by`` is ``pattern:<lang>``, ``semantic`` or ``pattern+semantic``; confidence combines
both (noisy-or, at most 0.95).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from osintel.errors import ConfigError
from osintel.records import MethodHit

if TYPE_CHECKING:
    from nlp.embeddings import SentenceEncoder

log = logging.getLogger(__name__)

_ID_RE = re.compile(r"^[a-z]+\.[a-z0-9_]+$")
_LANG_RE = re.compile(r"^[a-z]{2}$")
# Sentence boundaries for languages without a spaCy pipeline: end punctuation (and closing
# quotes) followed by white space, or a line break. "£1.2m", "40.000" and ".onion" do not split.
_BOUNDARY_RE = re.compile(r"(?<=[.!?])[\"'’”»)]*\s+|\s*\n\s*")

BASE_CONFIDENCE = 0.6
STEP_CONFIDENCE = 0.1
MAX_CONFIDENCE = 0.95
#: Semantic-only confidence runs from SEMANTIC_BASE at the threshold to SEMANTIC_TOP at similarity 1.
SEMANTIC_BASE = 0.45
SEMANTIC_TOP = 0.8
DEFAULT_SEMANTIC_THRESHOLD = 0.55
DEFAULT_SEMANTIC_MARGIN = 0.03
#: Sentences embedded per document at most (those with the most cue words): bounds the cost.
MAX_SEMANTIC_SENTENCES = 2
#: Cue words a sentence needs before it is embedded: one crime word is too common in crime news.
MIN_SEMANTIC_CUES = 2
#: A sentence with fewer cue words than MIN_SEMANTIC_CUES is still compared, but only counts as a
#: hit when its similarity clears the method's threshold by this much (a close paraphrase of an
#: example with only one crime word, e.g. "met 'David' on a dating site and sent him £70,000").
SINGLE_CUE_EXTRA = 0.1
#: Sentences shorter than this many words carry too little meaning to compare.
MIN_SEMANTIC_WORDS = 5

_METHOD_KEYS = {
    "id", "label", "category", "description", "patterns", "guarded", "context", "examples", "keywords",
    "semantic_threshold",
}
_SEMANTIC_KEYS = {"threshold", "margin", "cues", "background"}

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


@dataclass(frozen=True)
class Method:
    """One validated taxonomy entry with its compiled patterns."""

    id: str
    label: str
    category: str
    description: str
    patterns: dict[str, tuple[re.Pattern[str], ...]]
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keywords: re.Pattern[str] | None = None
    semantic_threshold: float | None = None
    #: Ambiguous patterns ("county lines", "small boat") that count only when the document also
    #: matches ``context`` (crime words of the method's domain, any language).
    guarded: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    context: re.Pattern[str] | None = None


@dataclass(frozen=True)
class SemanticConfig:
    """The taxonomy-level ``semantic`` block: threshold, margin and per-category cue patterns."""

    threshold: float = DEFAULT_SEMANTIC_THRESHOLD
    margin: float = DEFAULT_SEMANTIC_MARGIN
    cues: dict[str, re.Pattern[str]] = field(default_factory=dict)
    background: tuple[str, ...] = ()


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
        # English example embeddings, stacked and grouped by method (_group_starts: first row of
        # each method in _semantic_methods); _background: the no-method sentences.
        self._examples = np.zeros((0, 0), dtype=np.float32)
        self._background = np.zeros((0, 0), dtype=np.float32)
        self._semantic_methods: list[int] = []
        self._group_starts = np.zeros(0, dtype=np.int64)
        if encoder is not None:
            self._embed_examples(encoder)

    def _embed_examples(self, encoder: SentenceEncoder) -> None:
        sentences: list[str] = []
        owners: list[int] = []
        for index, method in enumerate(self.methods):
            if method.category not in self.semantic.cues and method.keywords is None:
                continue  # no cue could ever admit a sentence for it
            for sentence in method.examples.get("en", ()):
                sentences.append(sentence)
                owners.append(index)
        self._examples = encoder.encode(sentences)
        self._background = encoder.encode(list(self.semantic.background))
        self._semantic_methods = sorted(set(owners))
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
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"methods file {path} cannot be read: {exc}") from None
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"methods file {path} is not valid YAML: {exc}") from None
        return cls.from_dict(data, origin=str(path), encoder=encoder, digest=hashlib.sha256(raw).hexdigest()[:12])

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
            method = _parse_method(entry, index, categories, origin)
            if method.id in seen:
                raise ConfigError(f"{origin}: method {method.id!r}: duplicate id")
            seen.add(method.id)
            methods.append(method)
        semantic = _parse_semantic(data.get("semantic", {}), categories, origin)
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

        Patterns for the document's language are used, plus the English ones (English terms of
        art such as "county lines" turn up in other languages); for an undetermined language all
        patterns are. English documents are also matched semantically, with the cue-bearing
        sentences of the whole batch embedded in one call.
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
        if language in self.languages:
            langs = [language] if language == "en" else [language, "en"]
        else:
            langs = sorted(self.languages, key=lambda lang: (lang != "en", lang))
        found: dict[int, _PatternResult] = {}
        for index, method in enumerate(self.methods):
            result = _match_patterns(method, text, sentences, langs)
            if result is not None:
                found[index] = result
        return found

    # --- semantic ---------------------------------------------------------------------------

    def _cue_methods(self, sentence: str) -> tuple[int, list[int]]:
        """Cue words found in a sentence and the methods they admit (category cues, own keywords)."""
        cues = 0
        categories = set()
        for category, cue in self.semantic.cues.items():
            found = len(cue.findall(sentence))
            if found:
                categories.add(category)
                cues += found
        allowed = []
        for index in self._semantic_methods:
            method = self.methods[index]
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
            # Sentences a pattern already explains are not embedded: the semantic pass is for what
            # the patterns miss, and embedding is the expensive step.
            explained = set().union(*(p.sentences for p in patterns[d].values()))
            ranked: list[tuple[int, int, int, list[int]]] = []
            for start, end in sentences:
                sentence = text[start:end]
                if start in explained or len(sentence.split()) < MIN_SEMANTIC_WORDS:
                    continue
                cues, allowed = self._cue_methods(sentence)
                if allowed and cues >= 1:
                    ranked.append((-cues, start, end, allowed))
            ranked.sort(key=lambda r: (r[0], r[1]))
            candidates += [
                (d, start, end, allowed, -neg < MIN_SEMANTIC_CUES)
                for neg, start, end, allowed in ranked[:MAX_SEMANTIC_SENTENCES]
            ]
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


def _compile_cues(words: Any, what: str, fail: Any) -> re.Pattern[str]:
    """Cue words are regular expressions matched at the start of a word ("traffick" matches "trafficking")."""
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
        raise fail(f"{what} must be a non-empty list of strings")
    for word in words:
        try:
            re.compile(word)
        except re.error as exc:
            raise fail(f"{what}: {word!r} does not compile: {exc}") from None
    return re.compile(r"\b(?:" + "|".join(f"(?:{w})" for w in words) + ")", re.IGNORECASE)


def _check_threshold(value: Any, what: str, fail: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) <= 1.0:
        raise fail(f"{what} must be a number in (0, 1], not {value!r}")
    return float(value)


def _parse_semantic(raw: Any, categories: dict[str, Any], origin: str) -> SemanticConfig:
    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{origin}: semantic: {problem}")

    if not isinstance(raw, dict):
        raise fail("must be a mapping with 'threshold', 'margin' and 'cues'")
    unknown = set(raw) - _SEMANTIC_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    threshold = _check_threshold(raw.get("threshold", DEFAULT_SEMANTIC_THRESHOLD), "threshold", fail)
    margin = raw.get("margin", DEFAULT_SEMANTIC_MARGIN)
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0.0 <= float(margin) <= 1.0:
        raise fail(f"margin must be a number in [0, 1], not {margin!r}")
    raw_cues = raw.get("cues", {})
    if not isinstance(raw_cues, dict):
        raise fail("cues must be a mapping of category to a list of cue words")
    cues: dict[str, re.Pattern[str]] = {}
    for category, words in raw_cues.items():
        if category not in categories:
            raise fail(f"cues for unknown category {category!r} (known: {', '.join(sorted(categories))})")
        cues[str(category)] = _compile_cues(words, f"cues.{category}", fail)
    background = raw.get("background", [])
    if not isinstance(background, list) or not all(isinstance(b, str) and b.strip() for b in background):
        raise fail("background must be a list of sentences")
    return SemanticConfig(threshold=threshold, margin=float(margin), cues=cues, background=tuple(background))


def _parse_method(entry: Any, index: int, categories: dict[str, Any], origin: str) -> Method:
    if not isinstance(entry, dict):
        raise ConfigError(f"{origin}: methods[{index}] must be a mapping")
    method_id = entry.get("id")
    if not isinstance(method_id, str) or not _ID_RE.match(method_id):
        raise ConfigError(f"{origin}: methods[{index}]: id {method_id!r} must look like 'category.name'")

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{origin}: method {method_id!r}: {problem}")

    unknown = set(entry) - _METHOD_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    category = entry.get("category")
    if category not in categories:
        raise fail(f"unknown category {category!r} (known: {', '.join(sorted(categories))})")
    if method_id.split(".", 1)[0] != category:
        raise fail(f"id must start with its category {category!r}")
    label = entry.get("label")
    if not isinstance(label, str) or not label.strip():
        raise fail("label must be a non-empty string")
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise fail("description must be a string")
    raw_patterns = entry.get("patterns")
    if not isinstance(raw_patterns, dict) or not raw_patterns:
        raise fail("patterns must be a mapping of language code to a list of regular expressions")
    patterns = _compile_patterns(raw_patterns, "patterns", fail)
    guarded: dict[str, tuple[re.Pattern[str], ...]] = {}
    context = None
    if "guarded" in entry:
        if not isinstance(entry["guarded"], dict) or not entry["guarded"]:
            raise fail("guarded must be a mapping of language code to a list of regular expressions")
        if "context" not in entry:
            raise fail("guarded patterns need a 'context' list")
        guarded = _compile_patterns(entry["guarded"], "guarded", fail)
    if "context" in entry:
        context = _compile_cues(entry["context"], "context", fail)
    raw_examples = entry.get("examples", {})
    if isinstance(raw_examples, list):
        raw_examples = {"en": raw_examples}
    if not isinstance(raw_examples, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in raw_examples.values()
    ):
        raise fail("examples must be a list of sentences or a mapping of language to sentences")
    keywords = None
    if "keywords" in entry:
        keywords = _compile_cues(entry["keywords"], "keywords", fail)
    semantic_threshold = None
    if "semantic_threshold" in entry:
        semantic_threshold = _check_threshold(entry["semantic_threshold"], "semantic_threshold", fail)
    return Method(
        id=method_id,
        label=label.strip(),
        category=category,
        description=description.strip(),
        patterns=patterns,
        examples={str(k): tuple(v) for k, v in raw_examples.items()},
        keywords=keywords,
        semantic_threshold=semantic_threshold,
        guarded=guarded,
        context=context,
    )


def _compile_patterns(raw: dict[Any, Any], what: str, fail: Any) -> dict[str, tuple[re.Pattern[str], ...]]:
    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    for lang, plist in raw.items():
        if not isinstance(lang, str) or not _LANG_RE.match(lang):
            raise fail(f"pattern language {lang!r} must be a two-letter code")
        if not isinstance(plist, list) or not plist or not all(isinstance(p, str) and p for p in plist):
            raise fail(f"{what}.{lang} must be a non-empty list of strings")
        compiled = []
        for pattern in plist:
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise fail(f"pattern {pattern!r} ({lang}) does not compile: {exc}") from None
        patterns[lang] = tuple(compiled)
    return patterns
