"""Shared pieces of every exporter: stable ids, the grading mappings, safe text.

**Stable ids.** Every object an export derives from a document gets a UUIDv5 in
:data:`NAMESPACE` over ``"<kind>:<key>"`` (a document id, a source id, a method id...), so
exporting the same documents twice yields the same STIX ids and MISP uuids, and a partner's
system updates rather than duplicates what it already holds.

**Grading → confidence.** The UK 3x5x2 grading has two evaluative parts: the source (1 reliable,
2 untested, 3 not reliable) and the intelligence (A known directly ... E suspected false). STIX
``confidence`` is one number 0-100; we map the intelligence assessment onto the STIX 2.1
Admiralty credibility bands (spec appendix "Confidence Scales": confirmed 100, probably true 80,
possibly true 50, doubtful 30, improbable 10) and lower it for a less reliable source:

    A=90, B=75, C=50, D=30, E=10;  source 1: +0, 2: -10, 3: -25  (never below 0)

so ``1AP`` is 90, ``2BP`` 65, ``3DC`` 5. The full code also travels verbatim (STIX statement
marking, MISP tag ``osintel:grading="2BP"``), so nothing is lost by the single number.
"""

from __future__ import annotations

import re
import uuid

from osintel.records import Document, Grading

#: Namespace of every UUIDv5 an export derives (fixed forever: changing it re-keys all feeds).
NAMESPACE = uuid.UUID("6f2b0f3c-6c1e-5a8e-9a53-0b5e1d7c2a41")

_INTELLIGENCE_CONFIDENCE = {"A": 90, "B": 75, "C": 50, "D": 30, "E": 10}
_SOURCE_PENALTY = {1: 0, 2: 10, 3: 25}
# C0 controls other than tab/newline/CR, and DEL: some consumers' parsers choke on them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Spreadsheet programs execute a cell that starts with one of these (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def stable_uuid(kind: str, key: str) -> uuid.UUID:
    """The UUIDv5 of ``kind:key`` in :data:`NAMESPACE` (same input, same id, on every machine)."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def grading_of(doc: Document) -> Grading:
    """The document's grading (falling back to its source's default)."""
    return doc.grading or doc.source.grading


def confidence(grading: Grading) -> int:
    """STIX confidence (0-100) for a 3x5x2 grading; see the module docstring for the table."""
    return max(0, _INTELLIGENCE_CONFIDENCE[grading.intelligence] - _SOURCE_PENALTY[grading.source])


def grading_statement(grading: Grading) -> str:
    """Human-readable statement of a grading, carried as a marking with the exported objects."""
    source = {1: "reliable", 2: "untested", 3: "not reliable"}[grading.source]
    intelligence = {
        "A": "known directly to the source",
        "B": "known indirectly to the source, corroborated",
        "C": "known indirectly to the source",
        "D": "not known",
        "E": "suspected to be false",
    }[grading.intelligence]
    handling = {"P": "lawful sharing permitted", "C": "sharing subject to conditions"}[grading.handling]
    return f"3x5x2 grading {grading.code}: source {source}; intelligence {intelligence}; handling: {handling}"


def clean_text(value: str | None, *, limit: int | None = None) -> str:
    """Crawled text made safe to carry: control characters removed, optionally truncated.

    Exported text is always a JSON string value (or a quoted CSV cell), never markup or a
    pattern, so it cannot be executed by the consumer; this only removes bytes that break parsers.
    """
    text = _CONTROL.sub("", value or "")
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text


def spreadsheet_safe(value: str) -> str:
    """A CSV cell that a spreadsheet will not evaluate as a formula (OWASP CSV injection)."""
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value
