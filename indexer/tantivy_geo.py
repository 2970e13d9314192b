"""Geo filters on the embedded index: cell terms in the engine, the exact check at the edge.

Every location is indexed as one cell term per level of a quadtree (:mod:`indexer.geo_cells`).
A geo filter is covered by cells (:func:`cover`): cells wholly inside the circle or box match
without any check; cells that straddle its edge are refined into their children, most populated
first (the engine's document frequency of each cell), and cells no document uses are dropped,
until the edge cells hold few documents, reach the finest level, or :data:`MAX_COVER_CELLS` is
reached. Only documents in the remaining edge cells (and not also in an inside cell) are checked
exactly, location by location (a document matches if ANY of its locations does), from per-slot
fast fields (stored JSON only past :data:`~indexer.tantivy_schema.GEO_SLOTS` locations).

The geo node is then replaced by an exact node the engine evaluates: the inside cells, plus
the edge documents that passed (or the edge cells minus those that failed, if fewer), as a
constant-score filter. The whole query runs inside tantivy, so totals, facets, histograms and
paging stay exact, and relevance scores do not depend on which way a document matched.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import tantivy

from indexer.base import And, GeoBox, GeoDistance, Node, Not, Or
from indexer.geo_cells import EDGE, INSIDE, MAX_LEVEL, CellClassifier, cell_parts, children, top_cells
from indexer.query_geo import point_matches
from indexer.tantivy_query import CellSet, ConstScore, IdHashSet, TantivyCompiler
from indexer.tantivy_schema import (
    GEO_CELL,
    GEO_COUNT,
    GEO_SLOTS,
    GEO_STORED,
    ID_HASH,
    geo_slot_fields,
)
from osintel.errors import IndexBackendError, QueryError

logger = logging.getLogger(__name__)

#: Most candidate documents one geo filter may check exactly; past it the query must narrow.
MAX_GEO_CANDIDATES = 500_000
#: Most cell terms one geo filter's cover may hold. Refining a cell looks up its 16 children
#: (a few microseconds each), so it pays only where the cell holds more documents than
#: :data:`REFINE_MIN_DOCS` to check exactly.
MAX_COVER_CELLS = 512
REFINE_MIN_DOCS = 32
#: Edge documents up to this many are fetched for the exact check without counting them first.
_FETCH_WITHOUT_COUNT = 10_000

GeoNode = GeoDistance | GeoBox


@dataclass(frozen=True, slots=True)
class Cover:
    """The cells of one geo filter: ``inside`` ones match whole, ``edge`` ones need the check;
    ``edge_documents`` bounds the documents located in edge cells (the sum of their document
    frequencies)."""

    inside: frozenset[int]
    edge: frozenset[int]
    edge_documents: int = 0

    @property
    def cells(self) -> frozenset[int]:
        return self.inside | self.edge


def has_geo(node: Node) -> bool:
    """Whether ``node`` contains a geo filter anywhere."""
    if isinstance(node, (GeoDistance, GeoBox)):
        return True
    if isinstance(node, (And, Or)):
        return any(has_geo(child) for child in node.clauses)
    if isinstance(node, Not):
        return has_geo(node.clause)
    return False


def _internal(node: object) -> Node:
    # The compiler's internal nodes (CellSet, IdHashSet, ConstScore) travel inside the AST.
    return cast(Node, node)


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


def _geo_nodes(node: Node) -> list[GeoNode]:
    if isinstance(node, (GeoDistance, GeoBox)):
        return [node]
    if isinstance(node, (And, Or)):
        return [geo for child in node.clauses for geo in _geo_nodes(child)]
    if isinstance(node, Not):
        return _geo_nodes(node.clause)
    return []


def cover(searcher: tantivy.Searcher, geo: GeoNode) -> Cover:
    """The cells of ``geo`` that hold documents in ``searcher`` (see the module docstring)."""
    classifier = CellClassifier(geo)
    inside: list[int] = []
    edge: list[int] = []
    partial: list[tuple[int, int]] = []  # (-documents, cell): a heap, most populated first
    edge_documents = 0

    def visit(cell: int) -> None:
        nonlocal edge_documents
        state = classifier.classify(cell)
        if state != INSIDE and state != EDGE:
            return
        documents = int(searcher.doc_freq(GEO_CELL, cell))
        if documents == 0:
            return
        if state == INSIDE:
            inside.append(cell)
        elif cell_parts(cell)[0] >= MAX_LEVEL:
            edge.append(cell)
            edge_documents += documents
        else:
            heapq.heappush(partial, (-documents, cell))

    try:
        for cell in top_cells():
            visit(cell)
        while partial and -partial[0][0] > REFINE_MIN_DOCS:
            if len(inside) + len(edge) + len(partial) + 15 > MAX_COVER_CELLS:
                break
            _, cell = heapq.heappop(partial)
            for child in children(cell):
                visit(child)
    except ValueError as exc:
        raise IndexBackendError(f"geo filtering failed: {exc}") from exc
    edge.extend(cell for _, cell in partial)
    edge_documents += sum(-negated for negated, _ in partial)
    return Cover(frozenset(inside), frozenset(edge), edge_documents)


def resolve_geo(searcher: tantivy.Searcher, compiler: TantivyCompiler, node: Node) -> Node:
    """``node`` with every geo filter replaced by the exact set of documents it matches.

    A geo filter that must hold for the whole query (the query itself, or a clause of its
    top-level AND) only checks edge documents that pass the rest of the query (with other geo
    filters at their covers); one nested under OR/NOT checks all of its edge documents.
    """
    if not has_geo(node):
        return node
    top_level = set(node.clauses) if isinstance(node, And) else {node}
    geos = list(dict.fromkeys(_geo_nodes(node)))
    covers = {geo: cover(searcher, geo) for geo in geos}
    resolved: dict[GeoNode, Node] = {}
    for geo in geos:
        cells = covers[geo]
        edge_only = And((_internal(CellSet(cells.edge)), Not(_internal(CellSet(cells.inside)))))
        if not cells.edge:
            matched: frozenset[int] = frozenset()
            rejected: frozenset[int] = frozenset()
        else:
            if geo in top_level:

                def superset(other: GeoNode, positive: bool, geo: GeoNode = geo) -> Node:
                    if other == geo:
                        return edge_only
                    # A superset of the exact filter: its cover, but a negated one becomes
                    # "nothing", since NOT cover would drop documents at its edge.
                    return _internal(CellSet(covers[other].cells if positive else frozenset()))

                candidates = compiler.compile(_replace(node, superset))
            else:
                candidates = compiler.compile(edge_only)
            matched, rejected = _exact_check(searcher, candidates, geo, cells.edge_documents)
        # Outside the candidates, the rest of the query (or the cover) already excludes a
        # document; of the two exact forms, the one with fewer id hashes is the cheaper.
        if not rejected:
            exact: object = CellSet(cells.cells)
        elif len(rejected) < len(matched):
            exact = And((_internal(CellSet(cells.cells)), Not(_internal(IdHashSet(rejected)))))
        else:
            exact = Or((_internal(CellSet(cells.inside)), _internal(IdHashSet(matched))))
        resolved[geo] = _internal(ConstScore(_internal(exact)))
    return _replace(node, lambda geo, _: resolved[geo])


def _exact_check(
    searcher: tantivy.Searcher, candidates: tantivy.Query, geo: GeoNode, bound: int
) -> tuple[frozenset[int], frozenset[int]]:
    """Id hashes of the candidates that match ``geo`` exactly, and of those that do not;
    ``bound`` is at least the number of candidates."""
    try:
        limit = bound
        if bound > min(_FETCH_WITHOUT_COUNT, MAX_GEO_CANDIDATES):
            # ``count`` is missing from tantivy's type stubs, not from the result.
            limit = int(getattr(searcher.search(candidates, 1, count=True), "count", 0) or 0)
            if limit > MAX_GEO_CANDIDATES:
                raise QueryError(
                    f"the geo filter has {limit} candidate documents to check (limit "
                    f"{MAX_GEO_CANDIDATES}); narrow the area or add other terms"
                )
        if limit <= 0:
            return frozenset(), frozenset()
        # Ordering by a fast field skips scoring, which the candidates do not need.
        hits = searcher.search(candidates, limit, count=False, order_by_field=ID_HASH).hits
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
    seen: dict[tuple[float, float], bool] = {}  # documents share places: check each point once

    def matches(lat: float, lon: float) -> bool:
        known = seen.get((lat, lon))
        if known is None:
            known = seen[lat, lon] = point_matches(geo, lat, lon)
        return known

    matched: set[int] = set()
    rejected: set[int] = set()
    overflow = 0
    for row, (address, count) in enumerate(zip(addresses, counts)):
        points: list[tuple[float, float]] = []
        for lats, lons in columns[: min(count, GEO_SLOTS)]:
            lat, lon = lats[row], lons[row]
            if lat is not None and lon is not None:
                points.append((float(lat), float(lon)))
        if count > GEO_SLOTS:
            overflow += 1
            stored = searcher.doc(address).get_first(GEO_STORED)
            if stored:
                points = [(float(lat), float(lon)) for lat, lon in json.loads(str(stored))]
        doc_hash = int(hashes[row] or 0)
        if any(matches(lat, lon) for lat, lon in points):
            matched.add(doc_hash)
        else:
            rejected.add(doc_hash)
    logger.debug(
        "geo filter %s: %s edge candidates, %s exact matches, %s read from stored locations",
        geo, len(addresses), len(matched), overflow,
    )
    return frozenset(matched), frozenset(rejected)
