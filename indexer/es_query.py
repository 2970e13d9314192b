"""Compile the query AST (:mod:`indexer.base`) into the Elasticsearch/OpenSearch query DSL.

Semantics follow :mod:`indexer.tantivy_query` clause for clause, so both backends return the
same hits. User input only ever becomes *values* inside structured queries (``term``,
``match_phrase``, ``prefix``, ``range``, ``geo_*``): no ``query_string``, regex, script or
leading wildcard reaches the engine.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Any

from indexer.analysis import words
from indexer.base import And, GeoBox, GeoDistance, MatchAll, Node, Not, Or, Phrase, Prefix, Range, Term
from indexer.es_mapping import PLACES, TEXT_FIELDS
from indexer.query import FIELDS
from indexer.query_geo import MAX_RADIUS_KM
from osintel.errors import QueryError

Query = dict[str, Any]

_MATCH_ALL: Query = {"match_all": {}}
_MATCH_NONE: Query = {"match_none": {}}
# ASCII folding beyond what NFKD decomposition gives (Lucene's ASCIIFoldingFilter does these).
_FOLD_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ð": "d"})


def fold(word: str) -> str:
    """Lower-case and ASCII-fold ``word`` as the index's analyser does (without stemming)."""
    word = word.lower().translate(_FOLD_EXTRA)
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _bool(**clauses: list[Query]) -> Query:
    return {"bool": {k: v for k, v in clauses.items() if v}}


class EsCompiler:
    """Turns an AST into a query DSL dict. Stateless; one instance serves every search."""

    def compile(self, node: Node) -> Query:
        query = self._compile(node)
        return _MATCH_ALL if query is None else query

    # ``None`` means "no constraint" (MatchAll), so that it vanishes from an AND, as in tantivy.
    def _compile(self, node: Node) -> Query | None:
        if isinstance(node, MatchAll):
            return None
        if isinstance(node, And):
            return self._and(node)
        if isinstance(node, Or):
            parts = [self._compile(c) for c in node.clauses]
            if any(p is None for p in parts):
                return None
            return {"bool": {"should": parts, "minimum_should_match": 1}}
        if isinstance(node, Not):
            inner = self._compile(node.clause)
            if inner is None:
                return _MATCH_NONE
            return _bool(must=[_MATCH_ALL], must_not=[inner])
        if isinstance(node, Term):
            if node.field is None or FIELDS[node.field].kind == "text":
                return self._text(node.field, node.value, slop=0)
            return self._keyword(node.field, node.value)
        if isinstance(node, Phrase):
            return self._text(node.field, node.text, slop=node.slop)
        if isinstance(node, Prefix):
            return self._prefix(node)
        if isinstance(node, Range):
            return self._range(node)
        if isinstance(node, (GeoDistance, GeoBox)):
            return _geo(node)
        raise QueryError(f"cannot compile query node {node!r}")

    def _and(self, node: And) -> Query | None:
        must: list[Query] = []
        must_not: list[Query] = []
        for child in node.clauses:
            if isinstance(child, Not):
                inner = self._compile(child.clause)
                if inner is None:
                    return _MATCH_NONE
                must_not.append(inner)
            else:
                query = self._compile(child)
                if query is not None:
                    must.append(query)
        if not must and not must_not:
            return None
        if len(must) == 1 and not must_not:
            return must[0]
        return _bool(must=must, must_not=must_not)

    def _text(self, field: str | None, text: str, *, slop: int) -> Query | None:
        # match_phrase analyses with the field's analyser: one token is a term query, several a
        # phrase. Text without words ("&&") constrains nothing, as in tantivy; that is decided
        # here, not by the engine's zero_terms_query, so that an analyser dropping every word
        # (an index of mapping v2 and a 40-character word) matches nothing instead of everything.
        if not words(text, strict=True):
            return None
        fields = TEXT_FIELDS if field is None else (field,)
        queries = [{"match_phrase": {name: {"query": text, "slop": slop}}} for name in fields]
        if len(queries) == 1:
            return queries[0]
        return {"bool": {"should": queries, "minimum_should_match": 1}}

    def _keyword(self, field: str, value: str) -> Query:
        spec = FIELDS[field]
        if spec.kind == "entity":
            return {"terms": {"entity_typed": [f"{label}|{value}" for label in spec.labels]}}
        return {"term": {field: value}}

    def _prefix(self, node: Prefix) -> Query:
        spec = FIELDS[node.field] if node.field else None
        if spec is None or spec.kind == "text":
            found = words(node.value, strict=True)
            if len(found) > 1:  # the parser refuses these, with a position
                raise QueryError(f"a wildcard word must be a single word, not {node.value!r}")
            fields = TEXT_FIELDS if spec is None else (spec.name,)
            if found:
                queries = [{"prefix": {f: fold(found[0])}} for f in fields]
            else:
                queries = [{"exists": {"field": f}} for f in fields]
            if len(queries) == 1:
                return queries[0]
            return {"bool": {"should": queries, "minimum_should_match": 1}}
        if spec.kind == "entity":
            queries = [{"prefix": {"entity_typed": f"{label}|{node.value}"}} for label in spec.labels]
            if len(queries) == 1:
                return queries[0]
            return {"bool": {"should": queries, "minimum_should_match": 1}}
        if not node.value:
            return {"exists": {"field": spec.name}}
        return {"prefix": {spec.name: node.value}}

    def _range(self, node: Range) -> Query:
        bounds: dict[str, Any] = {}
        if node.low is not None:
            bounds["gte" if node.include_low else "gt"] = _bound(node.low)
        if node.high is not None:
            bounds["lte" if node.include_high else "lt"] = _bound(node.high)
        return {"range": {node.field: bounds}}


def _geo(node: GeoDistance | GeoBox) -> Query:
    """A nested geo filter: one of the document's locations must match (as in tantivy)."""
    point = f"{PLACES}.point"
    if isinstance(node, GeoDistance):
        _check_lat_lon(node.lat, node.lon)
        if not 0 < node.km <= MAX_RADIUS_KM:
            raise QueryError(f"near: radius must be greater than 0 and at most {MAX_RADIUS_KM:g} km, not {node.km:g}")
        inner: Query = {"geo_distance": {"distance": f"{node.km}km", point: {"lat": node.lat, "lon": node.lon}}}
    else:
        _check_lat_lon(node.north, node.west)
        _check_lat_lon(node.south, node.east)
        if node.north < node.south:
            raise QueryError(f"bbox: north {node.north:g} is below south {node.south:g}")
        box = {"top_left": {"lat": node.north, "lon": node.west}, "bottom_right": {"lat": node.south, "lon": node.east}}
        inner = {"geo_bounding_box": {point: box}}
    return {"nested": {"path": PLACES, "query": inner, "score_mode": "none"}}


def _check_lat_lon(lat: float, lon: float) -> None:
    # AST nodes may be built in code, not parsed: check them before they reach the engine.
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise QueryError(f"latitude {lat:g} is outside -90..90")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise QueryError(f"longitude {lon:g} is outside -180..180")


def _bound(value: datetime | float) -> str | float:
    if isinstance(value, datetime):
        # Milliseconds are the index's resolution; an explicit offset needs no time_zone.
        return value.isoformat(timespec="milliseconds")
    return float(value)
