"""Parsing and validation of the crime-type scheme file (``osintel/config/crimetypes.yaml``).

Everything here turns YAML data into typed, compiled records and raises
:class:`~osintel.errors.ConfigError` naming the entry on any problem. The file's header documents
the scheme and the format; classification lives in :mod:`nlp.crimetypes`. Cue lists and the
lower-casing of patterns are the method taxonomy's (:mod:`nlp.method_config`), so both files
mean the same thing by a pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from osintel.errors import ConfigError

from nlp.method_config import compile_cues, lowercase_pattern

_ID_RE = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")
_LANG_RE = re.compile(r"^[a-z]{2}$")
_TOP_KEYS = {"groups", "negation", "not", "fiction", "from_methods", "semantic", "types"}
_TYPE_KEYS = {
    "id", "label", "description", "patterns", "not", "supersedes", "examples", "counter_examples",
    "semantic_examples", "keywords", "semantic_threshold",
}
_SEMANTIC_KEYS = {"threshold", "margin", "background", "cues"}
DEFAULT_THRESHOLD = 0.6
DEFAULT_MARGIN = 0.04

Fail = Callable[[str], ConfigError]


@dataclass(frozen=True)
class CrimeTypeSpec:
    """One validated crime type of the scheme with its compiled (lower-case) patterns."""

    id: str
    label: str
    group: str
    description: str
    patterns: dict[str, tuple[re.Pattern[str], ...]]
    vetoes: tuple[re.Pattern[str], ...] = ()
    supersedes: tuple[str, ...] = ()
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    counter_examples: tuple[str, ...] = ()
    semantic_examples: tuple[str, ...] = ()
    keywords: re.Pattern[str] | None = None
    semantic_threshold: float | None = None

    @property
    def prototypes(self) -> tuple[str, ...]:
        """English sentences the semantic layer compares with: examples, then semantic examples."""
        return (*self.examples.get("en", ()), *self.semantic_examples)


@dataclass(frozen=True)
class SemanticSettings:
    """The scheme's ``semantic`` block: threshold, margin, background sentences, cue words."""

    threshold: float = DEFAULT_THRESHOLD
    margin: float = DEFAULT_MARGIN
    background: tuple[str, ...] = ()
    cues: re.Pattern[str] | None = None


@dataclass(frozen=True)
class CrimeScheme:
    """The whole validated scheme: groups, types and the shared guards."""

    groups: dict[str, str]
    types: tuple[CrimeTypeSpec, ...]
    negation: dict[str, re.Pattern[str]]
    vetoes: tuple[re.Pattern[str], ...]
    fiction: re.Pattern[str] | None
    from_methods: dict[str, str | None]
    semantic: SemanticSettings
    digest: str = ""

    @property
    def languages(self) -> list[str]:
        """Languages with at least one pattern, English first."""
        langs = {lang for t in self.types for lang in t.patterns}
        return sorted(langs, key=lambda lang: (lang != "en", lang))


def parse_scheme(data: Any, *, origin: str = "crimetypes", digest: str = "") -> CrimeScheme:
    """Validate parsed YAML into a :class:`CrimeScheme`; :class:`ConfigError` on any problem."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{origin}: {problem}")

    if not isinstance(data, dict):
        raise fail("top level must be a mapping with 'groups' and 'types'")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in groups.items()
    ):
        raise fail("'groups' must be a non-empty mapping of group id to label")
    entries = data.get("types")
    if not isinstance(entries, list) or not entries:
        raise fail("'types' must be a non-empty list")
    types: list[CrimeTypeSpec] = []
    for index, entry in enumerate(entries):
        spec = _parse_type(entry, index, groups, origin)
        if any(t.id == spec.id for t in types):
            raise fail(f"type {spec.id!r}: duplicate id")
        types.append(spec)
    known = {t.id for t in types}
    for spec in types:
        for other in spec.supersedes:
            if other not in known or other == spec.id:
                raise fail(f"type {spec.id!r}: supersedes unknown type {other!r}")
    negation = _parse_negation(data.get("negation", {}), fail)
    vetoes = _compile_list(data.get("not", []), "not", fail, allow_empty=True)
    fiction_list = _compile_list(data.get("fiction", []), "fiction", fail, allow_empty=True)
    fiction = re.compile("|".join(f"(?:{p.pattern})" for p in fiction_list)) if fiction_list else None
    from_methods = _parse_from_methods(data.get("from_methods", {}), known, fail)
    semantic = _parse_semantic(data.get("semantic", {}), fail)
    return CrimeScheme(
        groups={str(k): str(v).strip() for k, v in groups.items()},
        types=tuple(types),
        negation=negation,
        vetoes=vetoes,
        fiction=fiction,
        from_methods=from_methods,
        semantic=semantic,
        digest=digest,
    )


def _parse_type(entry: Any, index: int, groups: dict[str, Any], origin: str) -> CrimeTypeSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{origin}: types[{index}] must be a mapping")
    type_id = entry.get("id")
    if not isinstance(type_id, str) or not _ID_RE.match(type_id):
        raise ConfigError(f"{origin}: types[{index}]: id {type_id!r} must look like 'group.name'")

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{origin}: type {type_id!r}: {problem}")

    unknown = set(entry) - _TYPE_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    group = type_id.split(".", 1)[0]
    if group not in groups:
        raise fail(f"unknown group {group!r} (known: {', '.join(sorted(groups))})")
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
        patterns[lang] = _compile_list(plist, f"patterns.{lang}", fail)
    supersedes = entry.get("supersedes", [])
    if not isinstance(supersedes, list) or not all(isinstance(s, str) for s in supersedes):
        raise fail("supersedes must be a list of type ids")
    examples = entry.get("examples", {})
    if isinstance(examples, list):
        examples = {"en": examples}
    if not isinstance(examples, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) and s.strip() for s in v) for v in examples.values()
    ):
        raise fail("examples must be a list of sentences or a mapping of language to sentences")
    counter = _strings(entry.get("counter_examples", []), "counter_examples", fail)
    semantic_examples = _strings(entry.get("semantic_examples", []), "semantic_examples", fail)
    keywords = compile_cues(entry["keywords"], "keywords", fail) if "keywords" in entry else None
    threshold = entry.get("semantic_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold <= 1.0
    ):
        raise fail(f"semantic_threshold must be a number in (0, 1], not {threshold!r}")
    return CrimeTypeSpec(
        id=type_id,
        label=label.strip(),
        group=group,
        description=description.strip(),
        patterns=patterns,
        vetoes=_compile_list(entry.get("not", []), "not", fail, allow_empty=True),
        supersedes=tuple(supersedes),
        examples={str(k): tuple(v) for k, v in examples.items()},
        counter_examples=counter,
        semantic_examples=semantic_examples,
        keywords=lowercase_pattern(keywords) if keywords is not None else None,
        semantic_threshold=float(threshold) if threshold is not None else None,
    )


def _strings(value: Any, what: str, fail: Fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise fail(f"{what} must be a list of sentences")
    return tuple(s.strip() for s in value)


def _compile_list(value: Any, what: str, fail: Fail, *, allow_empty: bool = False) -> tuple[re.Pattern[str], ...]:
    """Compile a list of case-insensitive expressions into their lower-case form (see
    :func:`~nlp.method_config.lowercase_pattern`): text is lower-cased once per document."""
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise fail(f"{what} must be a list of regular expressions")
    if not value and not allow_empty:
        raise fail(f"{what} must not be empty")
    compiled = []
    for pattern in value:
        try:
            compiled.append(lowercase_pattern(re.compile(pattern, re.IGNORECASE)))
        except re.error as exc:
            raise fail(f"{what}: {pattern!r} does not compile: {exc}") from None
    return tuple(compiled)


def _parse_negation(raw: Any, fail: Fail) -> dict[str, re.Pattern[str]]:
    if not isinstance(raw, dict):
        raise fail("negation must be a mapping of language code to a list of regular expressions")
    out: dict[str, re.Pattern[str]] = {}
    for lang, plist in raw.items():
        if not isinstance(lang, str) or not _LANG_RE.match(lang):
            raise fail(f"negation language {lang!r} must be a two-letter code")
        compiled = _compile_list(plist, f"negation.{lang}", fail)
        out[lang] = re.compile("|".join(f"(?:{p.pattern})" for p in compiled))
    return out


def _parse_from_methods(raw: Any, known: set[str], fail: Fail) -> dict[str, str | None]:
    if not isinstance(raw, dict):
        raise fail("from_methods must be a mapping of method category or id to a crime type id (or null)")
    out: dict[str, str | None] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key:
            raise fail(f"from_methods: key {key!r} must be a method category or id")
        if value is not None and value not in known:
            raise fail(f"from_methods: {key!r} maps to unknown type {value!r}")
        out[key] = value
    return out


def _parse_semantic(raw: Any, fail: Fail) -> SemanticSettings:
    if not isinstance(raw, dict):
        raise fail("semantic must be a mapping with 'threshold', 'margin', 'background' and 'cues'")
    unknown = set(raw) - _SEMANTIC_KEYS
    if unknown:
        raise fail(f"semantic: unknown keys {sorted(unknown)}")
    threshold = raw.get("threshold", DEFAULT_THRESHOLD)
    margin = raw.get("margin", DEFAULT_MARGIN)
    for name, value, low in (("threshold", threshold, 0.0), ("margin", margin, -1e-9)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < float(value) <= 1.0:
            raise fail(f"semantic: {name} must be a number in (0, 1], not {value!r}")
    background = _strings(raw.get("background", []), "semantic.background", fail)
    cues = compile_cues(raw["cues"], "semantic.cues", fail) if "cues" in raw else None
    return SemanticSettings(
        threshold=float(threshold),
        margin=float(margin),
        background=background,
        cues=lowercase_pattern(cues) if cues is not None else None,
    )
