"""Geo filters on the embedded index find exactly what a brute-force check of every location
finds, and do their work in the engine.

The brute force applies :func:`indexer.query_geo.point_matches` (haversine for circles) to
every location of every document. Documents and filters are seeded random: points anywhere on
the globe, crowded at the poles and along the antimeridian, on cell boundaries, shared between
documents, up to a dozen per document (more than the fast-field slots); circles from 100 m to
the whole globe, boxes across the antimeridian; alone, negated, with text, OR-ed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import tantivy

from indexer import tantivy_geo
from indexer.base import And, GeoBox, GeoDistance, Node, Not, Or, Term
from indexer.query_geo import point_matches
from indexer.tantivy_index import TantivyIndex
from indexer.tantivy_schema import GEO_SLOTS
from osintel.errors import IndexBackendError
from osintel.records import Document, Location, SourceRef

SOURCE = SourceRef(id="geo-brute", name="Geo brute force", kind="feed")
WHEN = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
WORDS = ("harbour", "cocaine", "lorry", "cash")
DOCS = 400
QUERIES = 60


def _point(rng: random.Random, shared: list[tuple[float, float]]) -> tuple[float, float]:
    kind = rng.random()
    if kind < 0.3:
        return rng.choice(shared)
    if kind < 0.4:  # near a pole
        return rng.choice((1, -1)) * rng.uniform(85.0, 90.0), rng.uniform(-180, 180)
    if kind < 0.5:  # along the antimeridian
        return rng.uniform(-60, 60), rng.choice((1, -1)) * rng.uniform(178.0, 180.0)
    if kind < 0.55:  # on a cell boundary of some level
        level = rng.choice((4, 8, 12, 18))
        n = 1 << level
        return -90 + rng.randrange(n + 1) * 180 / n, -180 + rng.randrange(n + 1) * 360 / n
    if kind < 0.8:  # around western Europe, where most queries are
        return rng.uniform(40, 60), rng.uniform(-10, 20)
    return math.degrees(math.asin(rng.uniform(-1, 1))), rng.uniform(-180, 180)


def _documents(rng: random.Random) -> list[Document]:
    shared = [(rng.uniform(40, 60), rng.uniform(-10, 20)) for _ in range(15)] + [(90.0, 0.0), (0.0, 180.0)]
    docs = []
    for i in range(DOCS):
        count = rng.choice((0, 1, 1, 1, 2, 2, 3, 5, GEO_SLOTS + 3))
        points = [_point(rng, shared) for _ in range(count)]
        docs.append(Document(
            url=f"https://geo-brute.example/{i}", source=SOURCE, title=f"doc {i}",
            text=" ".join(rng.choices(WORDS, k=3)), published_at=WHEN, collected_at=WHEN, language="en",
            locations=[Location(name=f"p{j}", lat=lat, lon=lon, mention=f"p{j}") for j, (lat, lon) in enumerate(points)],
        ))
    return docs


def _geo(rng: random.Random, docs: list[Document]) -> GeoDistance | GeoBox:
    if rng.random() < 0.65:
        if rng.random() < 0.5:  # centred on a document's location: something is near
            located = [d for d in docs if d.locations]
            loc = rng.choice(rng.choice(located).locations)
            assert loc.lat is not None and loc.lon is not None
            lat, lon = loc.lat, loc.lon
        else:
            lat = rng.choice((90.0, -90.0, rng.uniform(-90, 90)))
            lon = rng.choice((180.0, -180.0, rng.uniform(-180, 180)))
        return GeoDistance(lat, lon, min(10 ** rng.uniform(-1, 4.3), 20_037.5))
    south = rng.uniform(-90, 80)
    north = rng.uniform(south, 90)
    west, east = rng.uniform(-180, 180), rng.uniform(-180, 180)
    return GeoBox(north, west, south, east)


def _brute(docs: list[Document], geo: GeoDistance | GeoBox) -> set[str]:
    return {
        d.id for d in docs
        if any(point_matches(geo, loc.lat, loc.lon) for loc in d.locations if loc.lat is not None and loc.lon is not None)
    }


def _ids(index: TantivyIndex, query: Node) -> set[str]:
    result = index.search(query, limit=DOCS)
    assert result.total == len(result.hits)
    return {hit.id for hit in result.hits}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TantivyIndex, list[Document]]]:
    docs = _documents(random.Random(14))
    with TantivyIndex(tmp_path_factory.mktemp("geo-brute"), writer_heap_bytes=20_000_000, max_page_size=DOCS) as index:
        index.upsert(docs[: DOCS // 2])  # two segments
        index.upsert(docs[DOCS // 2 :])
        yield index, docs


@pytest.mark.parametrize(
    ("refine_min_docs", "max_cells"),
    [(tantivy_geo.REFINE_MIN_DOCS, tantivy_geo.MAX_COVER_CELLS), (0, 100_000), (0, 24)],
    ids=["default", "refined-to-the-finest-cells", "coarse-cover"],
)
def test_geo_filters_match_a_brute_force_check_of_every_location(
    world: tuple[TantivyIndex, list[Document]], monkeypatch: pytest.MonkeyPatch, refine_min_docs: int, max_cells: int
) -> None:
    index, docs = world
    monkeypatch.setattr(tantivy_geo, "REFINE_MIN_DOCS", refine_min_docs)
    monkeypatch.setattr(tantivy_geo, "MAX_COVER_CELLS", max_cells)
    rng = random.Random(refine_min_docs * 7 + max_cells)
    everyone = {d.id for d in docs}
    with_word = {d.id for d in docs if "cocaine" in d.text}
    for _ in range(QUERIES):
        geo, other = _geo(rng, docs), _geo(rng, docs)
        near = _brute(docs, geo)
        assert _ids(index, geo) == near, geo
        assert _ids(index, Not(geo)) == everyone - near, geo
        assert _ids(index, And((Term(None, "cocaine"), geo))) == near & with_word, geo
        assert _ids(index, And((Term(None, "cocaine"), Not(geo)))) == with_word - near, geo
        assert _ids(index, Or((geo, other))) == near | _brute(docs, other), (geo, other)
        assert _ids(index, And((geo, Not(other)))) == near - _brute(docs, other), (geo, other)


def test_documents_well_inside_a_circle_need_no_exact_check(tmp_path: Path, search_calls: Any) -> None:
    london = Location(name="London", lat=51.5074, lon=-0.1278, mention="London")
    paris = Location(name="Paris", lat=48.8566, lon=2.3522, mention="Paris")
    docs = [
        Document(url=f"https://geo-cells.example/{i}", source=SOURCE, title=f"doc {i}", text="port",
                 collected_at=WHEN, locations=[london if i % 3 else paris])
        for i in range(120)
    ]
    with TantivyIndex(tmp_path, writer_heap_bytes=20_000_000) as index:
        index.upsert(docs)
        near = GeoDistance(51.51, -0.13, 50.0)
        with search_calls:
            result = index.search(near, limit=5)
        assert result.total == 80
        # One engine search for the page; no candidate count or fetch for an exact check.
        assert search_calls.count == 1


def _schema_before_geo_cells() -> tantivy.Schema:
    """The schema of the previous version (multi-valued lat/lon ranges, no cell terms)."""
    from indexer.search_common import ENTITY_FACET_FIELD, KEYWORD_FIELDS
    from indexer.tantivy_schema import FAST_KEYWORD_FIELDS, TEXT_ANALYZER

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", stored=False, tokenizer_name=TEXT_ANALYZER)
    builder.add_text_field("text", stored=True, tokenizer_name=TEXT_ANALYZER)
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, fast=name in FAST_KEYWORD_FIELDS, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(ENTITY_FACET_FIELD, fast=True, tokenizer_name="raw", index_option="basic")
    for name in ("published", "collected"):
        builder.add_date_field(name, indexed=True, fast=True)
    builder.add_float_field("relevance", indexed=True, fast=True)
    builder.add_float_field("geo_lat", indexed=True, fast=True)
    builder.add_float_field("geo_lon", indexed=True, fast=True)
    for slot in range(GEO_SLOTS):
        builder.add_float_field(f"geo_lat_{slot}", fast=True)
        builder.add_float_field(f"geo_lon_{slot}", fast=True)
    builder.add_unsigned_field("geo_n", fast=True)
    builder.add_text_field("geo", stored=True, tokenizer_name="raw", index_option="basic")
    for name in ("id_key", "id_hash"):
        builder.add_unsigned_field(name, indexed=True, fast=True)
    for name in ("sort_up", "sort_down", "sort_rel"):
        builder.add_integer_field(name, indexed=True, fast=True)
    builder.add_unsigned_field("story_key", fast=True)
    builder.add_bytes_field("json", stored=True)
    return builder.build()


def test_an_index_built_before_geo_cells_is_refused_with_the_reindex_command(tmp_path: Path) -> None:
    tantivy.Index(_schema_before_geo_cells(), path=str(tmp_path))  # as the previous version left it
    with pytest.raises(IndexBackendError, match="different schema.*osintel reindex --to embedded"):
        TantivyIndex(tmp_path, writer_heap_bytes=20_000_000)
