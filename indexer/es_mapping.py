"""Elasticsearch/OpenSearch index settings and mappings, generated from the :class:`Document` record.

The index mirrors the embedded tantivy index field for field, so one compiled query means the
same on both backends:

- ``title``/``text``: analysed with :data:`TEXT_ANALYZER`, the same chain as tantivy's
  (split on every non-alphanumeric character, lower-case, ASCII-fold, drop tokens of 40+ bytes,
  Snowball English). Documents in French, German or Spanish also get ``text_<code>`` analysed
  with the engine's own language analyser (indexed only, not stored twice), for analysts who
  query the cluster directly; the analyst query language uses ``text``, so both backends return
  the same hits.
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
- ``doc`` is the whole record (not indexed), so hits return full documents.

Bump :data:`MAPPING_VERSION` whenever :func:`index_body` changes: a new versioned index is then
built by ``osintel reindex`` and the aliases swapped to it.
"""

from __future__ import annotations

import json
from typing import Any

from indexer.query import DEFAULT_PHONE_REGION, normalize, normalize_entity_value
# One definition of "the facet value of an entity" for both backends.
from indexer.search_common import ENTITY_FACET_FIELD, KEYWORD_FIELDS, entity_facet_values, relevance_key
from indexer.search_common import keyword_values as _keyword_values
from osintel.records import Document

#: Version of the index layout; part of the concrete index name (``<prefix>-documents-v<N>``).
#: 2: ``crimetype`` (crime types and their groups). 3: ``cluster`` (story id) and ``sort_rel``.
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

# Token chain equal to tantivy's SimpleTokenizer + RemoveLong(40) + LowerCaser + AsciiFolding +
# Stemmer(English). The split is a one-for-one character replacement (offsets stay exact for
# highlighting) followed by a whitespace split: osmem-server's `pattern` and `char_group`
# tokenizers emit the separators as tokens at index time, a real cluster does not.
_ANALYSIS: dict[str, Any] = {
    "char_filter": {
        "osintel_non_alnum": {
            "type": "pattern_replace",
            "pattern": "[^\\p{L}\\p{N}]",
            "replacement": " ",
        }
    },
    "filter": {
        "osintel_max_len": {"type": "length", "max": 39},
        "osintel_stem_en": {"type": "snowball", "language": "English"},
    },
    "analyzer": {
        TEXT_ANALYZER: {
            "type": "custom",
            "char_filter": ["osintel_non_alnum"],
            "tokenizer": "whitespace",
            "filter": ["lowercase", "asciifolding", "osintel_max_len", "osintel_stem_en"],
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
    source["doc"] = json.loads(doc.to_json())
    return source


def from_source(source: dict[str, Any]) -> Document:
    """The record stored in a hit's ``_source``."""
    return Document.from_json(json.dumps(source["doc"]))


def version_of(doc: Document) -> int:
    """External version for a write: the capture time in ms. A re-capture supersedes the older
    one; re-enriching the same capture (same version, ``external_gte``) replaces it."""
    return int(doc.collected_at.timestamp() * 1000)
