"""Geo filters on the embedded index: a coarse range, then the exact check.

Tantivy has no geo queries. Every location's latitude and longitude are indexed as multi-valued
fast fields, so a box around the filter (:func:`indexer.query_geo.bounding_ranges`) is a pair of
range queries. That box is a superset: a circle's corners lie outside it, and with several
locations one location's latitude can pair with another's longitude. Each candidate is then
checked exactly, location by location (a document matches if ANY of its locations does), from
per-slot fast fields (stored JSON only past :data:`~indexer.tantivy_schema.GEO_SLOTS`
locations). The geo node is replaced by the set of matching id hashes and the whole query runs
inside tantivy, so totals, facets, histograms and paging stay exact.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import tantivy

from indexer.base import And, GeoBox, GeoDistance, Node, Not, Or
from indexer.query_geo import point_matches
from indexer.tantivy_query import CoarseGeo, IdHashSet, TantivyCompiler, internal
from indexer.tantivy_schema import (
    GEO_COUNT,
    GEO_SLOTS,
    GEO_STORED,
    ID_HASH,
    geo_slot_fields,
    match_count,
)
from osintel.errors import IndexBackendError, QueryError

logger = logging.getLogger(__name__)

#: Most candidate documents one geo filter may check exactly; past it the query must narrow.
MAX_GEO_CANDIDATES = 500_000

GeoNode = GeoDistance | GeoBox


def has_geo(node: Node) -> bool:
    """Whether ``node`` contains a geo filter anywhere."""
    if isinstance(node, (GeoDistance, GeoBox)):
        return True
    if isinstance(node, (And, Or)):
        return any(has_geo(child) for child in node.clauses)
    if isinstance(node, Not):
        return has_geo(node.clause)
    return False


def _replace(node: Node, swap: Callable[[GeoNode, bool], Node], positive: bool = True) -> Node:
    """``node`` with each geo node ``g`` replaced by ``swap(g, positive)``, where ``positive``
    says whether ``g`` sits under an even number of NOTs."""
    if isinstance(node, (GeoDistance, GeoBox)):
        return swap(node, positive)
    if isinstance(node, And):
        return And(tuple(_replace(c, swap, positive) for c in node.clauses))
    if isinstance(node, Or):
        return Or(tuple(_replace(c, swap, positive) for c in node.clauses))
    if isinstance(node, Not):
        return Not(_replace(node.clause, swap, not positive))
    return node


def _coarse(geo: GeoNode, positive: bool) -> Node:
    # The coarse query must be a superset of the exact one: a geo filter becomes its box, but a
    # negated one becomes "nothing", since NOT box would drop documents in the box's corners.
    return internal(CoarseGeo(geo)) if positive else internal(IdHashSet(frozenset()))


def _geo_nodes(node: Node) -> list[GeoNode]:
    if isinstance(node, (GeoDistance, GeoBox)):
        return [node]
    if isinstance(node, (And, Or)):
        return [geo for child in node.clauses for geo in _geo_nodes(child)]
    if isinstance(node, Not):
        return _geo_nodes(node.clause)
    return []


def resolve_geo(searcher: tantivy.Searcher, compiler: TantivyCompiler, node: Node) -> Node:
    """``node`` with every geo filter replaced by the exact set of documents it matches.

    A geo filter that must hold for the whole query (the query itself, or a clause of its
    top-level AND) only checks documents that pass the rest of the query's coarse form; one
    nested under OR/NOT checks everything in its own box.
    """
    if not has_geo(node):
        return node
    top_level = set(node.clauses) if isinstance(node, And) else {node}
    coarse_whole = compiler.compile(_replace(node, _coarse))
    resolved: dict[GeoNode, Node] = {}
    for geo in dict.fromkeys(_geo_nodes(node)):
        candidates = coarse_whole if geo in top_level else compiler.coarse_geo(geo)
        matched, rejected = _exact_check(searcher, candidates, geo)
        # Whichever set is smaller: a box mostly holds matches, so "box minus the rejects"
        # (documents of the candidates that failed the exact check) is usually the cheap one.
        # Outside the candidates, the rest of the query (or the box) already excludes a document.
        if not rejected:
            resolved[geo] = internal(CoarseGeo(geo))
        elif len(rejected) < len(matched):
            box_minus_rejects = (internal(CoarseGeo(geo)), Not(internal(IdHashSet(rejected))))
            resolved[geo] = And(box_minus_rejects)
        else:
            resolved[geo] = internal(IdHashSet(matched))
    return _replace(node, lambda geo, _: resolved[geo])


def _exact_check(
    searcher: tantivy.Searcher, candidates: tantivy.Query, geo: GeoNode
) -> tuple[frozenset[int], frozenset[int]]:
    """Id hashes of the candidates that match ``geo`` exactly, and of those that do not."""
    try:
        total = match_count(searcher.search(candidates, 1, count=True))
        if total == 0:
            return frozenset(), frozenset()
        if total > MAX_GEO_CANDIDATES:
            raise QueryError(
                f"the geo filter has {total} candidate documents to check (limit "
                f"{MAX_GEO_CANDIDATES}); narrow the area or add other terms"
            )
        # Ordering by a fast field skips scoring, which the candidates do not need.
        hits = searcher.search(candidates, total, count=False, order_by_field=ID_HASH).hits
        addresses = [address for _, address in hits]
        counts = [int(n or 0) for n in searcher.fast_field_values(GEO_COUNT, addresses)]
        hashes = searcher.fast_field_values(ID_HASH, addresses)
        slots = min(GEO_SLOTS, max(counts, default=0))
        columns = [
            (searcher.fast_field_values(lat, addresses), searcher.fast_field_values(lon, addresses))
            for lat, lon in (geo_slot_fields(slot) for slot in range(slots))
        ]
    except ValueError as exc:
        raise IndexBackendError(f"geo filtering failed: {exc}") from exc
    matched: set[int] = set()
    rejected: set[int] = set()
    overflow = 0
    for row, (address, count) in enumerate(zip(addresses, counts)):
        points = [
            (float(lat), float(lon))
            for lat, lon in ((lats[row], lons[row]) for lats, lons in columns[: min(count, GEO_SLOTS)])
            if lat is not None and lon is not None
        ]
        if count > GEO_SLOTS:
            overflow += 1
            stored = searcher.doc(address).get_first(GEO_STORED)
            points = [(float(lat), float(lon)) for lat, lon in json.loads(stored)] if stored else points
        id_hash = hashes[row]
        if id_hash is None:
            raise IndexBackendError(f"geo filtering failed: document {address} has no {ID_HASH}")
        if any(point_matches(geo, lat, lon) for lat, lon in points):
            matched.add(int(id_hash))
        else:
            rejected.add(int(id_hash))
    logger.debug(
        "geo filter %s: %s candidates, %s exact matches, %s read from stored locations",
        geo, total, len(matched), overflow,
    )
    return frozenset(matched), frozenset(rejected)
