"""Search semantics every backend shares, beyond the AST: orders, cursor identity, entity facets.

Backends import these so that the same query sorts, pages and counts the same way whichever
engine answers it (the contract suite checks that they do):

- :func:`mode_for`: ``published``/``-published`` order by ``(time, id)`` with undated documents
  last; ``relevance`` orders by ``(-score, id)`` when the query has a scored (full-text) clause
  (:func:`is_scored`), else by id alone (every score is equal);
- :func:`fingerprint`: what a cursor is bound to, so one from another query or sort is refused;
- :func:`entity_facet_values`: the ``LABEL|value`` terms that the ``entity:<LABEL>`` facets count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Literal

from indexer.base import And, Node, Or, Phrase, Term
from indexer.query import DEFAULT_PHONE_REGION, FIELDS, normalize, normalize_entity_value
from osintel.records import Document

#: ``score``: (-score, id); ``id``: id; ``up``: (published, id); ``down``: (-published, id).
Mode = Literal["score", "id", "up", "down"]

#: Index field of ``LABEL|value`` terms, one per entity (see :func:`entity_facet_values`).
ENTITY_FACET_FIELD = "entity_facet"
#: Keyword fields, one normalised term per value, the same on every backend.
KEYWORD_FIELDS: tuple[str, ...] = (
    "source",
    "language",
    "author",
    "entity",
    "entity_typed",
    "label",
    "method",
    "category",
    "crimetype",
    "country",
    "place",
    "grading",
    "handling",
)


def keyword_values(doc: Document, *, canonical: Callable[[str, str], str]) -> dict[str, set[str]]:
    """Every keyword-field value of ``doc``, normalised as the query parser normalises input.

    ``canonical(label, raw)`` gives an entity value's canonical form (phones in E.164, ...).
    Both backends index exactly these values, so a keyword query means the same on each.
    """
    values: dict[str, set[str]] = {name: set() for name in KEYWORD_FIELDS}
    values["source"].add(normalize("source", doc.source.id))
    if doc.language:
        values["language"].add(normalize("language", doc.language))
    for author in (doc.author, doc.author_handle):
        if author and author.strip():
            values["author"].add(normalize("author", author))
    for entity in doc.entities:
        label = entity.label.upper()
        values["label"].add(label)
        # A phone the extractor put in E.164 was read with the document's region ("06 12 34 56
        # 78" in a French page is +33612345678): reading its text again with the index's default
        # region would file it under another country's number too.
        e164 = entity.normalized if label == "PHONE" and (entity.normalized or "").startswith("+") else None
        for raw in (entity.text, entity.normalized):
            if not raw or not raw.strip():
                continue
            value = canonical(label, e164 or raw)
            values["entity"].update({normalize("entity", raw), value.casefold()})
            values["entity_typed"].add(f"{label}|{value}")
    for method in doc.methods:
        values["method"].add(normalize("method", method.id))
        values["category"].add(normalize("category", method.category))
    for crime in doc.crime_types:
        # The type (violence.homicide) and its group (violence): `crimetype:violence` and the
        # group facet count a document once, however many types of the group it reports.
        values["crimetype"].add(normalize("crimetype", crime.id))
        values["crimetype"].add(normalize("crimetype", crime.id.split(".", 1)[0]))
    for location in doc.locations:
        if location.country_code:
            values["country"].add(normalize("country", location.country_code))
        for name in (location.name, location.mention):
            if name and name.strip():
                values["place"].add(normalize("place", name))
    if doc.grading is not None:
        values["grading"].add(doc.grading.code)
        values["handling"].add(doc.grading.handling)
    return values


def is_scored(node: Node) -> bool:
    """Whether ``node`` has a positive full-text clause, i.e. hits can differ in score."""
    if isinstance(node, (And, Or)):
        return any(is_scored(child) for child in node.clauses)
    if isinstance(node, (Term, Phrase)):
        return node.field is None or FIELDS[node.field].kind == "text"
    return False  # Not, ranges, keyword filters, prefixes (constant score), geo


def mode_for(node: Node, sort: str) -> Mode:
    """The total order used for ``sort`` on ``node``."""
    if sort == "published":
        return "up"
    if sort == "-published":
        return "down"
    return "score" if is_scored(node) else "id"


def fingerprint(node: Node, sort: str) -> str:
    """Identifies (query, sort): a cursor only continues the listing it came from."""
    return hashlib.sha256(f"{sort}\x00{node!r}".encode()).hexdigest()[:24]


def entity_facet_values(
    doc: Document,
    *,
    phone_region: str = DEFAULT_PHONE_REGION,
    canonical: Callable[[str, str], str] | None = None,
) -> set[str]:
    """``LABEL|value`` for each entity: its normalised value (else its text), canonicalised.

    ``canonical(label, raw)`` replaces :func:`~indexer.query.normalize_entity_value` (a backend
    that already normalised the same values passes its memo: phone parsing is not cheap).
    """
    values: set[str] = set()
    for entity in doc.entities:
        raw = entity.normalized if entity.normalized and entity.normalized.strip() else entity.text
        if raw and raw.strip():
            label = entity.label.upper()
            if canonical is not None:
                value = canonical(label, raw)
            else:
                value = normalize_entity_value(label, raw, phone_region=phone_region)
            values.add(f"{label}|{value}")
    return values
