"""Geo values of the query language, and the geometry every backend checks them with.

``near:"lat,lon,radius"`` becomes :class:`~indexer.base.GeoDistance` (radius in km, m or mi;
no unit means km) and ``bbox:"north,west,south,east"`` a :class:`~indexer.base.GeoBox`
(``west > east`` crosses the antimeridian). :func:`haversine_km`, :func:`point_matches` and
:func:`bounding_ranges` are shared so that backends agree on what "within" means.
"""

from __future__ import annotations

import math
import re

from indexer.base import GeoBox, GeoDistance

#: Largest ``near:`` radius: half the Earth's circumference (anything larger covers the globe).
MAX_RADIUS_KM = 20_037.5
_UNITS_KM = {"km": 1.0, "m": 0.001, "mi": 1.609344}
_RADIUS_RE = re.compile(r"^\s*([0-9.eE+\-]+)\s*([a-zA-Z]*)\s*$")
GEO_EXAMPLES = {"near": '"51.51,-0.13,25km"', "bbox": '"52.0,-1.0,51.0,0.5"'}


class GeoValueError(ValueError):
    """A malformed geo value; ``offset`` is where in the value the problem starts."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


def _split_components(raw: str, count: int, field: str) -> list[tuple[str, int]]:
    parts: list[tuple[str, int]] = []
    offset = 0
    for piece in raw.split(","):
        parts.append((piece, offset))
        offset += len(piece) + 1
    if len(parts) != count:
        raise GeoValueError(
            f"{field}: needs {count} comma-separated values such as {GEO_EXAMPLES[field]}, "
            f"got {len(parts)}"
        )
    return parts


def _coordinate(field: str, name: str, piece: str, offset: int, limit: float) -> float:
    try:
        value = float(piece)
    except ValueError:
        message = f"{field}: {name} must be a number, not {piece.strip()!r}"
        raise GeoValueError(message, offset) from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        message = f"{field}: {name} {piece.strip()} is outside -{limit:g}..{limit:g}"
        raise GeoValueError(message, offset)
    return value


def parse_geo(field: str, raw: str) -> GeoDistance | GeoBox:
    """Parse the value of ``near:`` (``lat,lon,radius[km|m|mi]``) or ``bbox:`` (``n,w,s,e``).

    Raises :class:`GeoValueError` (with the offset of the bad component) for malformed values,
    latitudes outside ±90, longitudes outside ±180, a radius that is not positive, or a box
    whose north edge is below its south edge.
    """
    if field == "near":
        (lat_s, lat_at), (lon_s, lon_at), (radius_s, radius_at) = _split_components(raw, 3, field)
        lat = _coordinate(field, "latitude", lat_s, lat_at, 90.0)
        lon = _coordinate(field, "longitude", lon_s, lon_at, 180.0)
        match = _RADIUS_RE.match(radius_s)
        unit = match[2].lower() if match else ""
        if match is None or unit not in ("", *_UNITS_KM):
            raise GeoValueError(
                f"{field}: radius must be a number with an optional unit km, m or mi, "
                f"not {radius_s.strip()!r}",
                radius_at,
            )
        try:
            amount = float(match[1])
        except ValueError:
            message = f"{field}: radius must be a number, not {match[1]!r}"
            raise GeoValueError(message, radius_at) from None
        km = amount * _UNITS_KM.get(unit, 1.0)
        if not math.isfinite(km) or km <= 0:
            message = f"{field}: radius must be greater than 0, not {radius_s.strip()}"
            raise GeoValueError(message, radius_at)
        if km > MAX_RADIUS_KM:
            raise GeoValueError(
                f"{field}: radius {radius_s.strip()} is larger than half the Earth's circumference",
                radius_at,
            )
        return GeoDistance(lat, lon, km)
    if field == "bbox":
        parts = _split_components(raw, 4, field)
        names = ("north", "west", "south", "east")
        limits = (90.0, 180.0, 90.0, 180.0)
        north, west, south, east = (
            _coordinate(field, name, piece, at, limit)
            for name, (piece, at), limit in zip(names, parts, limits)
        )
        if north < south:
            raise GeoValueError(
                f"{field}: north ({north:g}) is below south ({south:g}); the order is "
                "north,west,south,east",
                parts[0][1],
            )
        return GeoBox(north, west, south, east)
    raise GeoValueError(f"{field!r} is not a geo field")


#: Mean Earth radius (IUGG), the same value Elasticsearch and Lucene use.
EARTH_RADIUS_KM = 6371.0088
_KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def point_matches(node: GeoDistance | GeoBox, lat: float, lon: float) -> bool:
    """Whether the point (``lat``, ``lon``) satisfies the geo filter (edges included)."""
    if isinstance(node, GeoDistance):
        return haversine_km(node.lat, node.lon, lat, lon) <= node.km
    if not node.south <= lat <= node.north:
        return False
    if node.west <= node.east:
        return node.west <= lon <= node.east
    return lon >= node.west or lon <= node.east  # crosses the antimeridian


LatLonBox = tuple[float, float, float, float]


def bounding_ranges(node: GeoDistance | GeoBox) -> list[LatLonBox]:
    """Boxes ``(south, north, west, east)`` (never crossing the antimeridian) that together
    contain every matching point: the coarse filter, refined by :func:`point_matches`."""
    if isinstance(node, GeoBox):
        if node.west <= node.east:
            return [(node.south, node.north, node.west, node.east)]
        return [
            (node.south, node.north, node.west, 180.0),
            (node.south, node.north, -180.0, node.east),
        ]
    # A little slack keeps floating-point rounding from dropping points on the circle itself.
    dlat = node.km / _KM_PER_DEGREE_LAT * 1.0001 + 1e-9
    south, north = node.lat - dlat, node.lat + dlat
    if south <= -90.0 or north >= 90.0:
        # The circle contains a pole: every longitude is in reach.
        return [(max(south, -90.0), min(north, 90.0), -180.0, 180.0)]
    # Widest longitude span of the circle, at the latitude where it touches its meridians.
    ratio = math.sin(node.km / EARTH_RADIUS_KM) / math.cos(math.radians(node.lat))
    if ratio >= 1.0:
        return [(south, north, -180.0, 180.0)]
    dlon = math.degrees(math.asin(ratio)) * 1.0001 + 1e-9
    west, east = node.lon - dlon, node.lon + dlon
    if west < -180.0:
        return [(south, north, west + 360.0, 180.0), (south, north, -180.0, east)]
    if east > 180.0:
        return [(south, north, west, 180.0), (south, north, -180.0, east - 360.0)]
    return [(south, north, west, east)]
