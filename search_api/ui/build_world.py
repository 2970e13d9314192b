"""Build ``static/world.json``, the offline world outline the map page draws places on.

Run ``python -m search_api.ui.build_world`` after upgrading ``countryinfo``; commit the output.

Source: the per-country GeoJSON shipped inside the ``countryinfo`` package (MIT licence,
Copyright (c) 2018 Porimol Chandro). Its outlines are the widely copied world.geo.json country
shapes, themselves derived from Natural Earth (public domain). A few countries carry no geometry
in ``countryinfo`` (Hungary, Serbia, Montenegro, Myanmar and many small islands); they show as
gaps, which is acceptable for a context map of plotted points.

The output is small on purpose (served with every map view): rings are simplified with
Ramer-Douglas-Peucker at :data:`TOLERANCE` degrees, coordinates rounded to 0.1 degree, and rings
that collapse below four points are dropped. Format::

    {"licence": "...", "countries": [{"id": "FRA", "name": "France", "rings": [[[lon, lat], ...]]}]}
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from importlib import resources
from pathlib import Path
from typing import Any

#: Simplification tolerance in degrees (about 20 km at the equator: ample for a world view).
TOLERANCE = 0.2
#: Decimal places kept in the output.
PRECISION = 1
OUTPUT = Path(__file__).with_name("static") / "world.json"
LICENCE = (
    "Country outlines from the countryinfo package (MIT, Copyright (c) 2018 Porimol Chandro), "
    "derived from Natural Earth (public domain); simplified by search_api/ui/build_world.py."
)

Point = tuple[float, float]


def _perpendicular(p: Point, a: Point, b: Point) -> float:
    if a == b:
        return math.dist(p, a)
    (x, y), (x1, y1), (x2, y2) = p, a, b
    return abs((y2 - y1) * x - (x2 - x1) * y + x2 * y1 - y2 * x1) / math.dist(a, b)


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Ramer-Douglas-Peucker simplification of an open polyline (iterative: no recursion limit)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        lo, hi = stack.pop()
        best, index = 0.0, -1
        for i in range(lo + 1, hi):
            d = _perpendicular(points[i], points[lo], points[hi])
            if d > best:
                best, index = d, i
        if index >= 0 and best > tolerance:
            keep[index] = True
            stack.extend(((lo, index), (index, hi)))
    return [p for p, k in zip(points, keep) if k]


def _ring(coords: list[list[float]]) -> list[list[float]] | None:
    points = [(float(x), float(y)) for x, y, *_ in coords]
    # A closed ring's endpoints coincide, so split it in two halves for RDP to have a baseline.
    mid = len(points) // 2
    simple = simplify(points[: mid + 1], TOLERANCE)[:-1] + simplify(points[mid:], TOLERANCE)
    rounded: list[list[float]] = []
    for x, y in simple:
        point = [round(x, PRECISION), round(y, PRECISION)]
        if not rounded or rounded[-1] != point:
            rounded.append(point)
    return rounded if len(rounded) >= 4 else None


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["coordinates"])
    return []


def build() -> dict[str, Any]:
    """Read every country's GeoJSON from ``countryinfo`` and return the simplified outline."""
    countries: list[dict[str, Any]] = []
    data = resources.files("countryinfo") / "data"
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        geo = json.loads(entry.read_text(encoding="utf-8")).get("geoJSON") or {}
        for feature in geo.get("features", []):
            rings = [
                ring
                for polygon in _polygons(feature.get("geometry") or {})
                # Outer rings only: holes (lakes, enclaves) are invisible at this scale.
                for ring in [_ring(polygon[0])]
                if polygon and ring
            ]
            if rings:
                name = (feature.get("properties") or {}).get("name", "")
                countries.append({"id": feature.get("id", ""), "name": name, "rings": rings})
    countries.sort(key=lambda c: c["id"])
    return {"licence": LICENCE, "countries": countries}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    world = build()
    args.output.write_text(json.dumps(world, separators=(",", ":")) + "\n", encoding="utf-8")
    points = sum(len(r) for c in world["countries"] for r in c["rings"])
    print(
        f"wrote {args.output}: {len(world['countries'])} countries, {points} points, "
        f"{args.output.stat().st_size} bytes",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
