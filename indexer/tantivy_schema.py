"""The tantivy schema, text analysers and the mapping from :class:`Document` to index fields.

Keyword values go through :func:`indexer.query.normalize` and
:func:`indexer.query.normalize_entity_value`, the same functions the query parser uses, so a
value typed by an analyst always meets the value indexed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone

import tantivy

from indexer.analysis import MAX_WORD_BYTES
from indexer.base import PreparedBatch
from indexer.geo_cells import point_cells
from indexer.query import DEFAULT_PHONE_REGION, normalize_entity_value
from indexer.search_common import (
    ENTITY_FACET_FIELD,
    KEYWORD_FIELDS,
    entity_facet_values,
    keyword_values,
    relevance_key,
)
from osintel.records import Document

#: The name :class:`~indexer.base.PreparedBatch` carries for this backend.
BACKEND = "tantivy"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

#: Registered on every opened index (analysers are not persisted with the index, only their
#: name). The name changes with the analyser, so that an index built by another one fails to open
#: (the schema differs) instead of silently missing words: ``_v2`` keeps words up to
#: :data:`~indexer.analysis.MAX_WORD_BYTES` bytes (``osintel_en`` dropped those of 40 or more).
TEXT_ANALYZER = "osintel_en_v2"

#: Keyword fields (raw tokenizer, one term per value; see search_common). Fast ones can be counted as facets.
FAST_KEYWORD_FIELDS = frozenset(
    {"source", "language", "method", "category", "crimetype", "country", "label", "grading"}
)
TEXT_FIELDS: tuple[str, ...] = ("title", "text")
DATE_FIELDS: tuple[str, ...] = ("published", "collected")

#: Every location's cells of the quadtree in :mod:`indexer.geo_cells`, one term per level: what
#: geo filters select in the engine. The name carries the cell scheme's version: an index built
#: with another scheme then fails to open (the schema differs) instead of missing matches.
GEO_CELL = "geo_cell_v1"
#: The first :data:`GEO_SLOTS` locations again, one single-valued fast field per slot, so the
#: exact geo check reads columns instead of stored documents; ``geo_n`` counts the locations
#: and ``geo`` stores all of them (read only for documents with more than GEO_SLOTS).
GEO_SLOTS = 8
GEO_COUNT, GEO_STORED = "geo_n", "geo"
#: First 8 bytes of the id as a big-endian integer: orders like the id itself (ties are broken
#: on the full id), so hits sort stably on ``(primary key, id)``.
ID_KEY = "id_key"
#: A 64-bit hash of the id: resolved geo filters select documents by a set of these.
ID_HASH = "id_hash"
#: Publication time in microseconds, ascending and negated (``sort_up``/``sort_down``); undated
#: documents hold the largest value so they come last in both orders.
SORT_UP, SORT_DOWN = "sort_up", "sort_down"
UNDATED = 2**63 - 1
#: Relevance score as minus its millionths (:func:`~indexer.search_common.relevance_key`):
#: ascending order is highest relevance first.
SORT_REL = "sort_rel"
#: A 64-bit hash of the story id (``cluster``): collapse reads it per hit, as a column.
STORY_KEY = "story_key"


def geo_slot_fields(slot: int) -> tuple[str, str]:
    """Names of the latitude and longitude fast fields of location slot ``slot``."""
    return f"geo_lat_{slot}", f"geo_lon_{slot}"


def id_key(doc_id: str) -> int:
    """Order-preserving integer of the first 8 UTF-8 bytes of ``doc_id`` (see :data:`ID_KEY`)."""
    return int.from_bytes(doc_id.encode("utf-8")[:8].ljust(8, b"\0"), "big")


def id_hash(doc_id: str) -> int:
    """64-bit BLAKE2b hash of ``doc_id`` (see :data:`ID_HASH`)."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "big")


def text_analyzer() -> tantivy.TextAnalyzer:
    """Full-text analyser: words (up to :data:`MAX_WORD_BYTES` bytes), lower-cased, ASCII-folded,
    English-stemmed."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_WORD_BYTES + 1))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def prefix_analyzer() -> tantivy.TextAnalyzer:
    """Like :func:`text_analyzer` without stemming: a prefix must not be stemmed."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=False, tokenizer_name=TEXT_ANALYZER)
    # Stored so that the snippet generator can highlight it.
    builder.add_text_field("text", stored=True, tokenizer_name=TEXT_ANALYZER)
    for name in KEYWORD_FIELDS:
        builder.add_text_field(
            name, fast=name in FAST_KEYWORD_FIELDS, tokenizer_name="raw", index_option="basic"
        )
    builder.add_text_field(
        ENTITY_FACET_FIELD, fast=True, tokenizer_name="raw", index_option="basic"
    )
    for name in DATE_FIELDS:
        builder.add_date_field(name, indexed=True, fast=True)
    builder.add_float_field("relevance", indexed=True, fast=True)
    builder.add_unsigned_field(GEO_CELL, indexed=True)
    for slot in range(GEO_SLOTS):
        for name in geo_slot_fields(slot):
            builder.add_float_field(name, fast=True)
    builder.add_unsigned_field(GEO_COUNT, fast=True)
    builder.add_text_field(GEO_STORED, stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field(ID_KEY, indexed=True, fast=True)
    builder.add_unsigned_field(ID_HASH, indexed=True, fast=True)
    builder.add_integer_field(SORT_UP, indexed=True, fast=True)
    builder.add_integer_field(SORT_DOWN, indexed=True, fast=True)
    builder.add_integer_field(SORT_REL, indexed=True, fast=True)
    builder.add_unsigned_field(STORY_KEY, fast=True)
    # The whole record, so hits return full documents without a round trip to the store.
    builder.add_bytes_field("json", stored=True)
    return builder.build()


def to_tantivy(doc: Document, *, phone_region: str = DEFAULT_PHONE_REGION) -> tantivy.Document:
    """Map a record onto the index fields."""
    out = tantivy.Document()
    out.add_text("id", doc.id)
    out.add_text("title", doc.title)
    out.add_text("text", doc.text)

    memo: dict[tuple[str, str], str] = {}

    def canonical_of(label: str, raw: str) -> str:
        if (label, raw) not in memo:
            memo[label, raw] = normalize_entity_value(label, raw, phone_region=phone_region)
        return memo[label, raw]

    values = keyword_values(doc, canonical=canonical_of)
    for name in KEYWORD_FIELDS:
        for value in sorted(values[name]):
            out.add_text(name, value)
    for value in sorted(entity_facet_values(doc, canonical=canonical_of)):
        out.add_text(ENTITY_FACET_FIELD, value)
    _add_geo(out, doc)

    out.add_unsigned(ID_KEY, id_key(doc.id))
    out.add_unsigned(ID_HASH, id_hash(doc.id))
    if doc.published_at is not None:
        out.add_date("published", doc.published_at)
        micros = _micros(doc)
        out.add_integer(SORT_UP, micros)
        out.add_integer(SORT_DOWN, -micros)
    else:
        out.add_integer(SORT_UP, UNDATED)
        out.add_integer(SORT_DOWN, UNDATED)
    out.add_date("collected", doc.collected_at)
    out.add_float("relevance", float(doc.relevance))
    out.add_integer(SORT_REL, relevance_key(doc.relevance))
    out.add_unsigned(STORY_KEY, id_hash(doc.story_id))
    out.add_bytes("json", doc.to_json().encode("utf-8"))
    return out


def prepare(docs: Sequence[Document], *, phone_region: str = DEFAULT_PHONE_REGION) -> PreparedBatch:
    """``docs`` mapped for :meth:`~indexer.tantivy_index.TantivyIndex.write` (last of an id wins)."""
    latest = {doc.id: doc for doc in docs}
    return PreparedBatch(
        backend=BACKEND,
        ids=tuple(latest),
        payload=tuple(to_tantivy(doc, phone_region=phone_region) for doc in latest.values()),
    )


def match_count(result: tantivy.SearchResult) -> int:
    """How many documents matched a ``Searcher.search(..., count=True)`` (0 when not counted)."""
    return int(result.count or 0)  # type: ignore[attr-defined]  # tantivy's .pyi omits SearchResult.count


def geo_points(doc: Document) -> list[tuple[float, float]]:
    """The distinct geocoded points of ``doc``, in the order of its locations."""
    points = [
        (loc.lat, loc.lon) for loc in doc.locations if loc.lat is not None and loc.lon is not None
    ]
    return list(dict.fromkeys(points))


def _add_geo(out: tantivy.Document, doc: Document) -> None:
    points = geo_points(doc)
    cells = {cell for lat, lon in points for cell in point_cells(lat, lon)}
    for cell in sorted(cells):
        out.add_unsigned(GEO_CELL, cell)
    for slot, (lat, lon) in enumerate(points[:GEO_SLOTS]):
        lat_field, lon_field = geo_slot_fields(slot)
        out.add_float(lat_field, lat)
        out.add_float(lon_field, lon)
    out.add_unsigned(GEO_COUNT, len(points))
    if len(points) > GEO_SLOTS:
        out.add_text(GEO_STORED, json.dumps(points))


def _micros(doc: Document) -> int:
    assert doc.published_at is not None
    delta = doc.published_at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
