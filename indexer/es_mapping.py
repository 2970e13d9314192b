"""Elasticsearch/OpenSearch index settings and mappings, generated from the :class:`Document` record.

The index mirrors the embedded tantivy index field for field, so one compiled query means the
same on both backends:

- ``title``/``text``: analysed with :data:`TEXT_ANALYZER`, the same chain as tantivy's
  (split on every non-alphanumeric character, drop words longer than
  :data:`~indexer.analysis.MAX_WORD_BYTES`, lower-case, ASCII-fold, Snowball English).
  Documents in French, German or Spanish also get ``text_<code>`` analysed with the engine's
  own language analyser (indexed only, not stored twice), for analysts who query the cluster
  directly; the analyst query language uses ``text``, so both backends return the same hits.
- keyword arrays (``source``, ``entity``, ``entity_typed`` = ``LABEL|value``, ``method`` ...) are
  flattened per document exactly as tantivy indexes them, through the same normalisers as the
  query parser (:func:`indexer.query.normalize`, :func:`indexer.query.normalize_entity_value`).
  ``entity:"X" AND method:Y`` therefore means "this document has both", as in tantivy;
  ``entity_facet`` holds one ``LABEL|value`` per entity (its normalised value) for the
  ``entity:<LABEL>`` facets;
- ``cluster`` (a keyword field like the others) is the story id that ``collapse`` groups copies
  by; ``sort_rel`` (``long``) is the relevance as minus its millionths, the key the
  ``relevance_score`` order sorts on, as in tantivy;
- ``published``/``collected`` are ``date``; ``relevance`` is ``double``; ``places`` holds one
  nested object per geocoded location (``point`` is a ``geo_point``), so ``near:``/``bbox:``
  need one location to match, as in tantivy;
- ``doc`` holds the whole record (not indexed) as JSON text, ``{"json": "..."}``, so hits
  return full documents. As text, its keys are out of the engine's reach: an engine may return
  an object's dotted keys (``relevance_explanation["method:drugs.x"]``) expanded into nested
  objects, and osmem-server does. :func:`from_source` also reads the object form of mapping
  version 2 (``doc`` was the record itself) and folds such expanded keys back.

Bump :data:`MAPPING_VERSION` whenever :func:`index_body` changes: a new versioned index is then
built by ``osintel reindex`` and the aliases swapped to it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from indexer.analysis import MAX_WORD_BYTES
from indexer.base import PreparedBatch
from indexer.query import DEFAULT_PHONE_REGION, normalize, normalize_entity_value
# One definition of "the facet value of an entity" for both backends.
from indexer.search_common import ENTITY_FACET_FIELD, KEYWORD_FIELDS, entity_facet_values, relevance_key
from indexer.search_common import keyword_values as _keyword_values
from osintel.errors import IndexBackendError
from osintel.records import Document

#: The name :class:`~indexer.base.PreparedBatch` carries for this backend.
BACKEND = "elasticsearch"

#: Version of the index layout; part of the concrete index name (``<prefix>-documents-v<N>``).
#: 2: ``crimetype`` (crime types and their groups). 3: words up to 255 characters are indexed
#: (version 2 dropped those of 40 or more: an ETH address could not be found as a word), and
#: ``cluster`` (story id) and ``sort_rel``.
MAPPING_VERSION = 3
#: The ``relevance_score`` sort key (see :func:`indexer.search_common.relevance_key`).
SORT_REL = "sort_rel"
TEXT_ANALYZER = "osintel_text"
#: The nested field of geocoded locations (``places.point`` is the ``geo_point``).
PLACES = "places"
PREFIX_NORMALIZER = "osintel_fold"
TEXT_FIELDS: tuple[str, ...] = ("title", "text")
#: Engine language analysers for ``text_<code>`` (present in Elasticsearch and OpenSearch alike);
#: only documents in that language fill the field, so English-only corpora pay nothing.
LANGUAGE_ANALYZERS: dict[str, str] = {"fr": "french", "de": "german", "es": "spanish"}
#: Key of the record's JSON text inside ``doc``.
RECORD_KEY = "json"
#: Record fields mapping names to plain values, whose names may hold dots (method ids, model
#: names): an engine that expanded those keys into objects is undone field by field.
_FLAT_DICT_FIELDS: tuple[str, ...] = ("relevance_explanation", "enrichment")

# Token chain equal to tantivy's SimpleTokenizer + RemoveLong + LowerCaser + AsciiFolding +
# Stemmer(English). The length filter comes first, as in tantivy, and counts UTF-16 units where
# tantivy counts UTF-8 bytes: a word of at most MAX_WORD_BYTES bytes (the only kind the query
# parser accepts) is kept by both. The split is a one-for-one character replacement (offsets
# stay exact for highlighting) followed by a whitespace split: osmem-server's `pattern` and
# `char_group` tokenizers emit the separators as tokens at index time, a real cluster does not.
_ANALYSIS: dict[str, Any] = {
    "char_filter": {
        "osintel_non_alnum": {
            "type": "pattern_replace",
            "pattern": "[^\\p{L}\\p{N}]",
            "replacement": " ",
        }
    },
    "filter": {
        "osintel_max_len": {"type": "length", "max": MAX_WORD_BYTES},
        "osintel_stem_en": {"type": "snowball", "language": "English"},
    },
    "analyzer": {
        TEXT_ANALYZER: {
            "type": "custom",
            "char_filter": ["osintel_non_alnum"],
            "tokenizer": "whitespace",
            "filter": ["osintel_max_len", "lowercase", "asciifolding", "osintel_stem_en"],
        }
    },
}


def index_body(*, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """Settings and mappings for a new versioned index (also used as the index template)."""
    text_field = {"type": "text", "analyzer": TEXT_ANALYZER}
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "title": dict(text_field),
        "text": dict(text_field),
        "published": {"type": "date"},
        "collected": {"type": "date"},
        "relevance": {"type": "double"},
        SORT_REL: {"type": "long"},
        # Nested, one object per geocoded location: a geo query must match one location, not
        # any point of an array (osmem-server checks only the last point of a geo_point array).
        PLACES: {
            "type": "nested",
            "properties": {
                "point": {"type": "geo_point"},
                "name": {"type": "keyword"},
                "country": {"type": "keyword"},
            },
        },
        "doc": {"type": "object", "enabled": False},
    }
    for name in (*KEYWORD_FIELDS, ENTITY_FACET_FIELD):
        properties[name] = {"type": "keyword"}
    for code, analyzer in LANGUAGE_ANALYZERS.items():
        properties[f"text_{code}"] = {"type": "text", "analyzer": analyzer}
    return {
        "settings": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            "analysis": _ANALYSIS,
        },
        "mappings": {
            "dynamic": "strict",
            # The per-language copies are indexed, not stored twice.
            "_source": {"excludes": [f"text_{code}" for code in LANGUAGE_ANALYZERS]},
            "_meta": {"osintel_mapping_version": MAPPING_VERSION},
            "properties": properties,
        },
    }


def keyword_values(doc: Document, *, phone_region: str = DEFAULT_PHONE_REGION) -> dict[str, list[str]]:
    """Every keyword-field value of ``doc``, normalised as the query parser normalises input."""
    values = _keyword_values(
        doc, canonical=lambda label, raw: normalize_entity_value(label, raw, phone_region=phone_region))
    return {name: sorted(found) for name, found in values.items() if found}


def to_source(doc: Document, *, phone_region: str = DEFAULT_PHONE_REGION) -> dict[str, Any]:
    """The ``_source`` of ``doc`` in the index. Empty fields are left out (``field:*`` means
    "has a value", as in tantivy, where an empty title indexes no term)."""
    source: dict[str, Any] = {"id": doc.id, "collected": doc.collected_at.isoformat()}
    if doc.title:
        source["title"] = doc.title
    if doc.text:
        source["text"] = doc.text
        if doc.language in LANGUAGE_ANALYZERS:
            source[f"text_{doc.language}"] = doc.text
    if doc.published_at is not None:
        source["published"] = doc.published_at.isoformat()
    source["relevance"] = float(doc.relevance)
    source[SORT_REL] = relevance_key(doc.relevance)
    places = [
        {
            "point": {"lat": loc.lat, "lon": loc.lon},
            "name": normalize("place", loc.name),
            "country": normalize("country", loc.country_code or ""),
        }
        for loc in doc.locations
        if loc.lat is not None and loc.lon is not None
    ]
    if places:
        source[PLACES] = places
    source.update(keyword_values(doc, phone_region=phone_region))
    facet_values = entity_facet_values(doc, phone_region=phone_region)
    if facet_values:
        source[ENTITY_FACET_FIELD] = sorted(facet_values)
    source["doc"] = {RECORD_KEY: doc.to_json()}
    return source


def from_source(source: dict[str, Any]) -> Document:
    """The record stored in a hit's ``_source``, however the engine returns object keys.

    Raises :class:`IndexBackendError` when the hit holds no valid record (rebuild the index).
    """
    stored = source.get("doc")
    text = stored.get(RECORD_KEY) if isinstance(stored, dict) else source.get(f"doc.{RECORD_KEY}")
    try:
        if isinstance(text, str):
            return Document.from_json(text)
        if isinstance(stored, dict):
            # Mapping version 2: the record as an object, its dotted keys perhaps expanded.
            record = dict(stored)
            for name in _FLAT_DICT_FIELDS:
                if isinstance(record.get(name), dict):
                    record[name] = _dotted(record[name])
            return Document.from_json(json.dumps(record))
    except ValidationError as exc:
        raise IndexBackendError(
            f"document {source.get('id')!r} in the cluster index is not a valid record "
            f"({exc.error_count()} errors, first: {exc.errors()[0]['loc']}); "
            "rebuild the index with `osintel reindex --to elasticsearch`"
        ) from exc
    raise IndexBackendError(f"document {source.get('id')!r} in the cluster index holds no osintel record")


def _dotted(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``: undo an engine's expansion of dotted keys."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flat.update(_dotted(item, f"{name}."))
        else:
            flat[name] = item
    return flat


def version_of(doc: Document) -> int:
    """External version for a write: the capture time in ms. A re-capture supersedes the older
    one; re-enriching the same capture (same version, ``external_gte``) replaces it."""
    return int(doc.collected_at.timestamp() * 1000)


def prepare(docs: Sequence[Document], *, phone_region: str = DEFAULT_PHONE_REGION) -> PreparedBatch:
    """``docs`` mapped for :meth:`~indexer.elastic.ElasticIndex.write`: (version, ``_source``) per
    id (last of an id wins); the target index is chosen when written."""
    latest = {doc.id: doc for doc in docs}
    return PreparedBatch(
        backend=BACKEND,
        ids=tuple(latest),
        payload=tuple((version_of(doc), to_source(doc, phone_region=phone_region)) for doc in latest.values()),
    )
