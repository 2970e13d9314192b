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
from indexer.query import DEFAULT_PHONE_REGION, FIELDS, normalize_entity_value
from osintel.records import Document

#: ``score``: (-score, id); ``id``: id; ``up``: (published, id); ``down``: (-published, id).
Mode = Literal["score", "id", "up", "down"]

#: Index field of ``LABEL|value`` terms, one per entity (see :func:`entity_facet_values`).
ENTITY_FACET_FIELD = "entity_facet"


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
