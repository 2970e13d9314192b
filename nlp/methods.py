"""Criminal-method (modus operandi) detection from the taxonomy in ``config/methods.yaml``.

The taxonomy is data: an analyst adds a method by adding an entry to the YAML file. Each entry has
an ``id`` (``<category>.<name>``), ``label``, ``category``, ``description``, ``patterns`` (a list of
case-insensitive regular expressions per language) and ``examples`` (sentences the patterns must
recognise; the test-suite checks them). The file is validated when it is loaded and any problem is
a :class:`~osintel.errors.ConfigError` naming the method.

Matching works on sentences: a method is reported once per document, with the sentence that has the
most distinct pattern hits as evidence. Confidence grows with the number of distinct patterns that
matched anywhere in the document (0.6 for one, +0.1 per further pattern, at most 0.95).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from osintel.errors import ConfigError
from osintel.records import MethodHit

log = logging.getLogger(__name__)

_ID_RE = re.compile(r"^[a-z]+\.[a-z0-9_]+$")
_LANG_RE = re.compile(r"^[a-z]{2}$")
# Sentence boundaries for languages without a spaCy pipeline: end punctuation (and closing
# quotes) followed by white space, or a line break. "£1.2m", "40.000" and ".onion" do not split.
_BOUNDARY_RE = re.compile(r"(?<=[.!?])[\"'’”»)]*\s+|\s*\n\s*")

BASE_CONFIDENCE = 0.6
STEP_CONFIDENCE = 0.1
MAX_CONFIDENCE = 0.95


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


class MethodTaxonomy:
    """The loaded, validated taxonomy and the matcher over it."""

    def __init__(self, methods: Sequence[Method], *, categories: dict[str, str], digest: str = "") -> None:
        self.methods = list(methods)
        self.categories = dict(categories)
        self.digest = digest
        self.by_id = {m.id: m for m in self.methods}

    # --- loading ----------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path) -> MethodTaxonomy:
        """Load and validate a taxonomy file; :class:`ConfigError` on any problem."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"methods file {path} cannot be read: {exc}") from None
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"methods file {path} is not valid YAML: {exc}") from None
        taxonomy = cls.from_dict(data, origin=str(path))
        taxonomy.digest = hashlib.sha256(raw).hexdigest()[:12]
        return taxonomy

    @classmethod
    def from_dict(cls, data: Any, *, origin: str = "methods") -> MethodTaxonomy:
        """Validate parsed YAML (``{"categories": {...}, "methods": [...]}``)."""
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
        return cls(methods, categories={str(k): str(v) for k, v in categories.items()})

    @property
    def languages(self) -> set[str]:
        """Languages that have at least one pattern."""
        return {lang for m in self.methods for lang in m.patterns}

    # --- matching ---------------------------------------------------------------------------

    def match(self, text: str, sentences: Sequence[tuple[int, int]], language: str | None) -> list[MethodHit]:
        """Methods found in ``text``, one hit per method, evidence from ``sentences``.

        Patterns for the document's language are used, plus the English ones (English terms of
        art such as "county lines" turn up in other languages). For an undetermined language all
        patterns are used.
        """
        if language in self.languages:
            langs = [language] if language == "en" else [language, "en"]
        else:
            langs = sorted(self.languages, key=lambda lang: (lang != "en", lang))
        hits: list[MethodHit] = []
        for method in self.methods:
            hit = self._match_method(method, text, sentences, langs)
            if hit is not None:
                hits.append(hit)
        return hits

    def _match_method(
        self, method: Method, text: str, sentences: Sequence[tuple[int, int]], langs: list[str]
    ) -> MethodHit | None:
        # Cheap pre-filter on the whole text; only patterns that occur are tried per sentence.
        present: list[tuple[str, re.Pattern[str]]] = [
            (lang, p) for lang in langs for p in method.patterns.get(lang, ()) if p.search(text)
        ]
        if not present:
            return None
        matched: set[str] = set()
        best: tuple[int, int, int, str] | None = None  # (-count, start, end, lang)
        for start, end in sentences:
            sentence = text[start:end]
            found = [(lang, p) for lang, p in present if p.search(sentence)]
            if not found:
                continue
            matched.update(p.pattern for _, p in found)
            key = (-len({p.pattern for _, p in found}), start, end, found[0][0])
            if best is None or key[:2] < best[:2]:
                best = key
        if best is None:
            return None  # matched only across a sentence boundary
        _, start, end, lang = best
        confidence = min(MAX_CONFIDENCE, BASE_CONFIDENCE + STEP_CONFIDENCE * (len(matched) - 1))
        return MethodHit(
            id=method.id,
            label=method.label,
            category=method.category,
            confidence=round(confidence, 3),
            evidence=text[start:end],
            start=start,
            end=end,
            matched_by=f"pattern:{lang}",
        )


def _parse_method(entry: Any, index: int, categories: dict[str, Any], origin: str) -> Method:
    if not isinstance(entry, dict):
        raise ConfigError(f"{origin}: methods[{index}] must be a mapping")
    method_id = entry.get("id")
    if not isinstance(method_id, str) or not _ID_RE.match(method_id):
        raise ConfigError(f"{origin}: methods[{index}]: id {method_id!r} must look like 'category.name'")

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{origin}: method {method_id!r}: {problem}")

    unknown = set(entry) - {"id", "label", "category", "description", "patterns", "examples"}
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
    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    for lang, plist in raw_patterns.items():
        if not isinstance(lang, str) or not _LANG_RE.match(lang):
            raise fail(f"pattern language {lang!r} must be a two-letter code")
        if not isinstance(plist, list) or not plist or not all(isinstance(p, str) and p for p in plist):
            raise fail(f"patterns.{lang} must be a non-empty list of strings")
        compiled = []
        for pattern in plist:
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise fail(f"pattern {pattern!r} ({lang}) does not compile: {exc}") from None
        patterns[lang] = tuple(compiled)
    raw_examples = entry.get("examples", {})
    if isinstance(raw_examples, list):
        raw_examples = {"en": raw_examples}
    if not isinstance(raw_examples, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in raw_examples.values()
    ):
        raise fail("examples must be a list of sentences or a mapping of language to sentences")
    return Method(
        id=method_id,
        label=label.strip(),
        category=category,
        description=description.strip(),
        patterns=patterns,
        examples={str(k): tuple(v) for k, v in raw_examples.items()},
    )
