"""A quadtree of latitude/longitude cells, and which cells a geo filter covers.

Level ``k`` cuts latitudes into ``2**k`` bands of ``180 / 2**k`` degrees and longitudes into
``2**k`` columns of ``360 / 2**k`` degrees; cell ``(k, x, y)`` is column ``x`` of band ``y``,
both counted from -180 / -90. Every location is indexed as one cell term per level of
:data:`LEVELS` (every second level, 2 to 18: from 90 x 45 degrees down to about 150 x 76 m at
the equator), so a geo filter becomes a set of cell terms the engine evaluates.

:class:`CellClassifier` tells, for one cell and one filter, whether every point of the cell
matches (:data:`INSIDE`), some may (:data:`EDGE`) or none can (:data:`OUTSIDE`). It is exact on
the sphere for ``near:`` circles (the longitudes a circle reaches at a latitude are an interval
around its centre whose half-width is unimodal in the latitude, so a band's widest and narrowest
half-widths lie at its edges or at one critical latitude) and for ``bbox:`` boxes, with a margin
of a fraction of a metre so that floating-point rounding, in the cells or in
:func:`~indexer.query_geo.point_matches`, can only turn a cell into an EDGE, never hide a match.
"""

from __future__ import annotations

import math

from indexer.base import GeoBox, GeoDistance
from indexer.query_geo import EARTH_RADIUS_KM

#: Indexed levels, coarsest first; a cell's children are the cells of the next one inside it.
LEVELS: tuple[int, ...] = (2, 4, 6, 8, 10, 12, 14, 16, 18)
MIN_LEVEL, MAX_LEVEL = LEVELS[0], LEVELS[-1]
_STEP = LEVELS[1] - LEVELS[0]
_BITS = 24  # bits of x and of y in a cell id (MAX_LEVEL <= _BITS)
_MASK = (1 << _BITS) - 1

OUTSIDE, EDGE, INSIDE = 0, 1, 2

#: Circles: the radius is widened (for EDGE) and narrowed (for INSIDE) by this angle, about
#: 0.6 m, far above the rounding of haversine_km (worst near antipodes, ~1e-8 rad).
_ANGLE_MARGIN = 1e-7
#: Boxes: edges are moved by this many degrees, above the rounding of a point's cell.
_DEGREE_MARGIN = 1e-9

ColumnRange = tuple[int, int]  # closed range of columns, may run past 0 or 2**level (wraps)
_ALL: ColumnRange = (0, -1)  # marker: every column
_NONE: ColumnRange = (1, 0)  # marker: no column


def cell_id(level: int, x: int, y: int) -> int:
    """The term of cell ``(level, x, y)``."""
    return (level << (2 * _BITS)) | (y << _BITS) | x


def cell_parts(cell: int) -> tuple[int, int, int]:
    """``(level, x, y)`` of a cell term."""
    return cell >> (2 * _BITS), cell & _MASK, (cell >> _BITS) & _MASK


def point_cells(lat: float, lon: float) -> list[int]:
    """The cell terms of the point (``lat``, ``lon``), one per level of :data:`LEVELS`."""
    top = 1 << MAX_LEVEL
    x = min(int((lon + 180.0) / 360.0 * top), top - 1)
    y = min(int((lat + 90.0) / 180.0 * top), top - 1)
    return [cell_id(k, x >> (MAX_LEVEL - k), y >> (MAX_LEVEL - k)) for k in LEVELS]


def children(cell: int) -> list[int]:
    """The cells of the next level of :data:`LEVELS` inside ``cell`` (none at the last)."""
    level, x, y = cell_parts(cell)
    if level >= MAX_LEVEL:
        return []
    side = 1 << _STEP
    child = level + _STEP
    return [
        cell_id(child, (x << _STEP) + dx, (y << _STEP) + dy)
        for dy in range(side)
        for dx in range(side)
    ]


def top_cells() -> list[int]:
    """Every cell of the coarsest level."""
    side = 1 << MIN_LEVEL
    return [cell_id(MIN_LEVEL, x, y) for y in range(side) for x in range(side)]


def _in_range(x: int, columns: ColumnRange, n: int) -> bool:
    low, high = columns
    if columns == _ALL:
        return True
    if high < low:
        return False
    return (x - low) % n <= high - low


def _columns(west: float, east: float, n: int, *, inner: bool) -> ColumnRange:
    """Columns of a level with ``n`` columns that intersect (``inner``: lie within) the
    longitudes ``west..east`` (degrees; ``east >= west``, either may lie past +-180)."""
    if east - west >= 360.0:
        return _ALL
    width = 360.0 / n
    low, high = (west + 180.0) / width, (east + 180.0) / width
    if inner:
        first, last = math.ceil(low), math.floor(high) - 1
    else:
        first, last = math.ceil(low) - 1, math.floor(high)
    if last < first:
        return _NONE
    if last - first + 1 >= n:
        return _ALL
    return first, last


class CellClassifier:
    """Classifies cells against one geo filter (see the module docstring). Rows (one level's
    band) are computed once and reused."""

    def __init__(self, geo: GeoDistance | GeoBox) -> None:
        self.geo = geo
        self._rows: dict[tuple[int, int], tuple[ColumnRange, ColumnRange]] = {}
        if isinstance(geo, GeoDistance):
            self._phi0 = math.radians(geo.lat)
            self._lon0 = geo.lon
            self._sin0, self._cos0 = math.sin(self._phi0), math.cos(self._phi0)
            self._radius = geo.km / EARTH_RADIUS_KM

    def classify(self, cell: int) -> int:
        """:data:`INSIDE`, :data:`EDGE` or :data:`OUTSIDE`."""
        level, x, y = cell_parts(cell)
        row = self._rows.get((level, y))
        if row is None:
            row = self._row(level, y)
            self._rows[level, y] = row
        outer, inner = row
        n = 1 << level
        if _in_range(x, inner, n):
            return INSIDE
        if _in_range(x, outer, n):
            return EDGE
        return OUTSIDE

    def _row(self, level: int, y: int) -> tuple[ColumnRange, ColumnRange]:
        """(columns intersecting, columns inside) the filter in band ``y`` of ``level``."""
        n = 1 << level
        height = 180.0 / n
        south, north = -90.0 + y * height, -90.0 + (y + 1) * height
        if isinstance(self.geo, GeoBox):
            return self._box_row(south, north, n)
        outer = self._circle_columns(south, north, self._radius + _ANGLE_MARGIN, n, inner=False)
        inner_radius = self._radius - _ANGLE_MARGIN
        inner = _NONE if inner_radius <= 0 else self._circle_columns(
            south, north, inner_radius, n, inner=True
        )
        return outer, inner

    def _box_row(self, south: float, north: float, n: int) -> tuple[ColumnRange, ColumnRange]:
        box = self.geo
        assert isinstance(box, GeoBox)
        # No margin where the box ends at a pole or spans every longitude: nothing lies beyond.
        low = box.south - (_DEGREE_MARGIN if box.south > -90.0 else 0.0)
        high = box.north + (_DEGREE_MARGIN if box.north < 90.0 else 0.0)
        if north < low or south > high:
            return _NONE, _NONE
        east = box.east if box.west <= box.east else box.east + 360.0
        whole = east - box.west >= 360.0
        margin = 0.0 if whole else _DEGREE_MARGIN
        outer = _columns(box.west - margin, east + margin, n, inner=False)
        inner_low = box.south + (_DEGREE_MARGIN if box.south > -90.0 else 0.0)
        inner_high = box.north - (_DEGREE_MARGIN if box.north < 90.0 else 0.0)
        if south < inner_low or north > inner_high:
            return outer, _NONE
        return outer, _columns(box.west + margin, east - margin, n, inner=True)

    def _circle_columns(
        self, south: float, north: float, radius: float, n: int, *, inner: bool
    ) -> ColumnRange:
        """Columns of the band ``south..north`` (degrees) that intersect (``inner``: lie
        within) the circle of angular ``radius`` around the filter's centre."""
        if radius >= math.pi:
            return _ALL
        phi_a, phi_b = math.radians(south), math.radians(north)
        reach_low, reach_high = self._phi0 - radius, self._phi0 + radius
        if inner:
            # Every latitude of the band must reach the circle (beyond a pole, all do).
            if (phi_a < reach_low and reach_low > -math.pi / 2) or (
                phi_b > reach_high and reach_high < math.pi / 2
            ):
                return _NONE
        else:
            phi_a, phi_b = max(phi_a, reach_low), min(phi_b, reach_high)
            if phi_a > phi_b:
                return _NONE
        samples = [phi_a, phi_b]
        cos_r = math.cos(radius)
        if cos_r != 0.0 and abs(self._sin0 / cos_r) <= 1.0:
            critical = math.asin(self._sin0 / cos_r)
            if phi_a < critical < phi_b:
                samples.append(critical)
        widths = [self._half_width(phi, radius, cos_r) for phi in samples]
        half = min(widths) if inner else max(widths)
        if half >= math.pi:
            return _ALL
        degrees = math.degrees(half)
        return _columns(self._lon0 - degrees, self._lon0 + degrees, n, inner=inner)

    def _half_width(self, phi: float, radius: float, cos_r: float) -> float:
        """Half the longitude span (radians) of the circle at latitude ``phi``, which it
        reaches: ``pi`` when it holds the whole parallel."""
        denominator = self._cos0 * math.cos(phi)
        if denominator <= 1e-15:  # the centre or the parallel is a pole
            return math.pi
        ratio = (cos_r - self._sin0 * math.sin(phi)) / denominator
        if ratio <= -1.0:
            return math.pi
        if ratio >= 1.0:
            return 0.0
        return math.acos(ratio)
