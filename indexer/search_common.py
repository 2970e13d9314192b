"""Search semantics every backend shares, beyond the AST: orders, cursor identity, entity facets.

Backends import these so that the same query sorts, pages and counts the same way whichever
engine answers it (the contract suite checks that they do):

- :func:`mode_for`: ``published``/``-published`` order by ``(time, id)`` with undated documents
  last; ``relevance_score`` by ``(-relevance, id)`` (:func:`relevance_key`); ``best_match``
  orders by ``(-score, id)`` when the query has a scored (full-text) clause (:func:`is_scored`),
  else by id alone (every score is equal);
- :func:`fingerprint`: what a cursor is bound to, so one from another query or sort is refused;
- :func:`entity_facet_values`: the ``LABEL|value`` terms that the ``entity:<LABEL>`` facets count;
- collapsed listings (one hit per story, ``cluster`` = :attr:`Document.story_id`) page by the
  number of stories served: :func:`encode_story_cursor` / :func:`decode_story_cursor`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from typing import Literal

from indexer.base import And, Node, Or, Phrase, Term, canonical_sort
from indexer.query import DEFAULT_PHONE_REGION, FIELDS, normalize, normalize_entity_value
from osintel.errors import QueryError
from osintel.records import Document, Entity

#: ``score``: (-score, id); ``id``: id; ``up``: (published, id); ``down``: (-published, id);
#: ``rel``: (-relevance, id).
Mode = Literal["score", "id", "up", "down", "rel"]

#: Keyword field holding each document's story (:attr:`Document.story_id`): what collapse groups
#: by, and what ``cluster:<id>`` finds (every copy of one story).
CLUSTER_FIELD = "cluster"
#: Relevance is sorted on as an integer of millionths (:func:`relevance_key`) on every backend.
RELEVANCE_SCALE = 1_000_000
#: Deepest story (offset + limit) a collapsed search may reach, on every backend.
MAX_STORY_WINDOW = 10_000
_MAX_CURSOR_LENGTH = 1024
_STORY_CURSOR_VERSION = 1

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
    CLUSTER_FIELD,
)


#: An E.164 number as ``phonenumbers`` formats one: the form the extractor stores in
#: ``Entity.normalized`` and the form :func:`~indexer.query.normalize_phone` returns for it.
_E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")


def enriched_e164(entity: Entity) -> str | None:
    """The E.164 value enrichment stored for a PHONE entity (read with the document's own region:
    "06 12 34 56 78" on a French page is +33612345678), or None. Re-reading the text with the
    index's default region would file the number under another country's too, and parsing it
    again is the costliest part of mapping a document."""
    value = entity.normalized
    if entity.label.upper() == "PHONE" and value and _E164_RE.fullmatch(value):
        return value
    return None


def keyword_values(doc: Document, *, canonical: Callable[[str, str], str]) -> dict[str, set[str]]:
    """Every keyword-field value of ``doc``, normalised as the query parser normalises input.

    ``canonical(label, raw)`` gives an entity value's canonical form (phones in E.164, ...).
    Both backends index exactly these values, so a keyword query means the same on each.
    """
    values: dict[str, set[str]] = {name: set() for name in KEYWORD_FIELDS}
    values["source"].add(normalize("source", doc.source.id))
    values[CLUSTER_FIELD].add(normalize(CLUSTER_FIELD, doc.story_id))
    if doc.language:
        values["language"].add(normalize("language", doc.language))
    for author in (doc.author, doc.author_handle):
        if author and author.strip():
            values["author"].add(normalize("author", author))
    for entity in doc.entities:
        label = entity.label.upper()
        values["label"].add(label)
        e164 = enriched_e164(entity)
        for raw in (entity.text, entity.normalized):
            if not raw or not raw.strip():
                continue
            # Normalised once, at enrichment: an E.164 value is already canonical (no re-parse).
            value = e164 or canonical(label, raw)
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
    """The total order used for ``sort`` (a name of :data:`~indexer.base.SORT_ORDERS` or an
    alias) on ``node``."""
    sort = canonical_sort(sort)
    if sort == "published":
        return "up"
    if sort == "-published":
        return "down"
    if sort == "relevance_score":
        return "rel"
    return "score" if is_scored(node) else "id"


def fingerprint(node: Node, sort: str, *, collapse: bool = False) -> str:
    """Identifies (query, sort, collapsed or not): a cursor only continues the listing it came
    from. Aliases of one sort share a fingerprint."""
    listing = f"{canonical_sort(sort)}{'|collapse' if collapse else ''}"
    return hashlib.sha256(f"{listing}\x00{node!r}".encode()).hexdigest()[:24]


def relevance_key(relevance: float) -> int:
    """The ascending sort key of a relevance score: minus its millionths (highest first)."""
    return -min(round(max(relevance, 0.0) * RELEVANCE_SCALE), 2**62)


def check_story_window(depth: int, limit: int) -> None:
    """Refuse a collapsed page past :data:`MAX_STORY_WINDOW` stories."""
    if depth + limit > MAX_STORY_WINDOW:
        raise QueryError(
            f"cannot page beyond story {MAX_STORY_WINDOW} with copies collapsed; narrow the query, "
            "or list every copy (collapse=false, --all-copies) and page with the cursor"
        )


def encode_story_cursor(print_: str, depth: int) -> str:
    """The cursor of a collapsed listing ``print_``: the number of stories served so far."""
    raw = json.dumps({"v": _STORY_CURSOR_VERSION, "q": print_, "s": depth}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_story_cursor(text: str, print_: str) -> int:
    """The stories served before ``text`` (a cursor of the collapsed listing ``print_``)."""
    bad = QueryError("invalid cursor: pass next_cursor from a previous result unchanged")
    if not isinstance(text, str) or not text or len(text) > _MAX_CURSOR_LENGTH:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("v") != _STORY_CURSOR_VERSION:
        raise bad
    if data.get("q") != print_:
        raise QueryError("the cursor belongs to a different query or sort order (or collapse setting)")
    depth = data.get("s")
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_STORY_WINDOW:
        raise bad
    return depth


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
            e164 = enriched_e164(entity)
            if e164 is not None:
                value = e164
            elif canonical is not None:
                value = canonical(label, raw)
            else:
                value = normalize_entity_value(label, raw, phone_region=phone_region)
            values.add(f"{label}|{value}")
    return values
