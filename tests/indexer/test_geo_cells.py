"""The geo cell grid: a cell called INSIDE holds only matching points, OUTSIDE only others.

Checked on seeded random circles and boxes (poles, antimeridian, tiny and huge radii) against
:func:`indexer.query_geo.point_matches`, the definition every backend shares, at points sampled
in each cell: its corners, edge midpoints and random points.
"""

from __future__ import annotations

import random

import pytest

from indexer.base import GeoBox, GeoDistance
from indexer.geo_cells import (
    EDGE,
    INSIDE,
    LEVELS,
    MAX_LEVEL,
    OUTSIDE,
    CellClassifier,
    cell_id,
    cell_parts,
    children,
    point_cells,
    top_cells,
)
from indexer.query_geo import point_matches


def _random_geo(rng: random.Random) -> GeoDistance | GeoBox:
    kind = rng.random()
    if kind < 0.6:
        lat = rng.choice([90.0, -90.0, 89.99, -89.5, 0.0]) if rng.random() < 0.2 else rng.uniform(-90, 90)
        lon = rng.choice([180.0, -180.0, 179.99, -179.9]) if rng.random() < 0.2 else rng.uniform(-180, 180)
        km = 10 ** rng.uniform(-1, 4.3)  # 100 m .. 20,000 km
        return GeoDistance(lat, lon, min(km, 20_037.5))
    south = rng.uniform(-90, 90)
    north = rng.uniform(south, 90) if rng.random() < 0.8 else 90.0
    west = rng.uniform(-180, 180)
    east = rng.uniform(-180, 180)  # west > east crosses the antimeridian
    if rng.random() < 0.1:
        west, east = -180.0, 180.0
    return GeoBox(north, west, south, east)


def _bounds(cell: int) -> tuple[float, float, float, float]:
    level, x, y = cell_parts(cell)
    n = 1 << level
    return -90 + y * 180 / n, -90 + (y + 1) * 180 / n, -180 + x * 360 / n, -180 + (x + 1) * 360 / n


def _samples(cell: int, rng: random.Random) -> list[tuple[float, float]]:
    south, north, west, east = _bounds(cell)
    lats = [south, (south + north) / 2, north] + [rng.uniform(south, north) for _ in range(3)]
    lons = [west, (west + east) / 2, east] + [rng.uniform(west, east) for _ in range(3)]
    return [(lat, lon) for lat in lats for lon in lons]


def _cells_to_check(classifier: CellClassifier, rng: random.Random) -> list[int]:
    """Cells of every level along a random descent, preferring edge cells (where mistakes hide)."""
    out = []
    frontier = top_cells()
    while frontier:
        out.extend(frontier)
        edges = [c for c in frontier if classifier.classify(c) == EDGE]
        pick = rng.sample(edges, min(3, len(edges))) + rng.sample(frontier, min(2, len(frontier)))
        frontier = [child for cell in pick for child in children(cell)]
    return out


@pytest.mark.parametrize("seed", range(40))
def test_inside_cells_hold_only_matches_and_outside_cells_none(seed: int) -> None:
    rng = random.Random(seed)
    geo = _random_geo(rng)
    classifier = CellClassifier(geo)
    for cell in _cells_to_check(classifier, rng):
        state = classifier.classify(cell)
        if state == EDGE:
            continue
        for lat, lon in _samples(cell, rng):
            assert point_matches(geo, lat, lon) == (state == INSIDE), (geo, cell_parts(cell), lat, lon)


def test_a_point_lies_in_its_cells_at_every_level() -> None:
    rng = random.Random(1)
    points = [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0), (51.5074, -0.1278)]
    points += [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(200)]
    for lat, lon in points:
        cells = point_cells(lat, lon)
        assert [cell_parts(c)[0] for c in cells] == list(LEVELS)
        for cell in cells:
            south, north, west, east = _bounds(cell)
            assert south <= lat <= north and west <= lon <= east
        for parent, child in zip(cells, cells[1:]):
            assert child in children(parent)


def test_cells_are_classified_exactly_away_from_the_edge() -> None:
    london = GeoDistance(51.51, -0.13, 50.0)
    classifier = CellClassifier(london)
    (centre,) = [c for c in point_cells(51.51, -0.13) if cell_parts(c)[0] == 12]
    assert classifier.classify(centre) == INSIDE  # ~5 km cell at the centre of a 50 km circle
    (far,) = [c for c in point_cells(48.85, 2.35) if cell_parts(c)[0] == 12]
    assert classifier.classify(far) == OUTSIDE  # Paris
    (coarse,) = [c for c in point_cells(51.51, -0.13) if cell_parts(c)[0] == 4]
    assert classifier.classify(coarse) == EDGE  # 22 x 11 degrees: part in, part out
    assert children(cell_id(MAX_LEVEL, 5, 5)) == []


def test_a_circle_around_a_pole_takes_every_longitude() -> None:
    classifier = CellClassifier(GeoDistance(90.0, 0.0, 500.0))
    side = 1 << 6
    top_row = [cell_id(6, x, side - 1) for x in range(side)]  # the band 87.2..90 degrees
    assert {classifier.classify(c) for c in top_row} == {INSIDE}


def test_a_box_across_the_antimeridian_covers_both_sides() -> None:
    classifier = CellClassifier(GeoBox(-10.0, 170.0, -20.0, -170.0))
    (fiji,) = [c for c in point_cells(-17.7134, 178.0650) if cell_parts(c)[0] == 8]
    (samoa,) = [c for c in point_cells(-13.8333, -172.1) if cell_parts(c)[0] == 8]
    (africa,) = [c for c in point_cells(-15.0, 30.0) if cell_parts(c)[0] == 8]
    assert classifier.classify(fiji) == INSIDE
    assert classifier.classify(samoa) == INSIDE
    assert classifier.classify(africa) == OUTSIDE


def test_huge_circles_cover_the_globe() -> None:
    classifier = CellClassifier(GeoDistance(10.0, 20.0, 20_037.5))
    assert {classifier.classify(c) for c in top_cells()} == {INSIDE}
