"""Aggregations over a query's top hits: entity co-occurrence and GeoJSON of geocoded places."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from itertools import combinations
from typing import Any

from indexer import GeoBox, GeoDistance, Index, Node
from osintel.records import Document


def top_documents(index: Index, node: Node, *, n: int, page_size: int) -> Iterator[Document]:
    """The ``n`` most relevant documents matching ``node``, fetched a page at a time."""
    offset = 0
    page_size = max(1, min(page_size, n))
    while offset < n:
        result = index.search(node, limit=min(page_size, n - offset), offset=offset)
        for hit in result.hits:
            yield hit.document
        if len(result.hits) < min(page_size, n - offset):
            return
        offset += len(result.hits)


def entity_key(label: str, value: str) -> str:
    return f"{label}:{value}"


def cooccurrence(docs: list[Document], *, labels: set[str] | None, size: int) -> list[dict[str, Any]]:
    """Pairs of entities found in the same document, most frequent first (``size`` pairs)."""
    pairs: Counter[tuple[str, str]] = Counter()
    for doc in docs:
        found = {
            (e.label, (e.normalized or e.text).strip())
            for e in doc.entities if (labels is None or e.label in labels) and (e.normalized or e.text).strip()
        }
        keys = sorted(entity_key(label, value) for label, value in found)
        # Cap per document: a page listing hundreds of entities would swamp the pairs.
        for a, b in combinations(keys[:50], 2):
            pairs[(a, b)] += 1
    out = []
    for (a, b), count in pairs.most_common(size):
        la, _, va = a.partition(":")
        lb, _, vb = b.partition(":")
        out.append({"a": {"label": la, "value": va}, "b": {"label": lb, "value": vb}, "count": count})
    return out


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def inside(lat: float, lon: float, area: GeoDistance | GeoBox | None) -> bool:
    """True when the point is within ``area`` (or there is no area)."""
    if area is None:
        return True
    if isinstance(area, GeoDistance):
        return _haversine_km(area.lat, area.lon, lat, lon) <= area.km
    if not area.south <= lat <= area.north:
        return False
    if area.west <= area.east:
        return area.west <= lon <= area.east
    return lon >= area.west or lon <= area.east  # crosses the antimeridian


def geojson(docs: list[Document], *, area: GeoDistance | GeoBox | None, max_ids: int = 20) -> dict[str, Any]:
    """A FeatureCollection with one Point per place, counting mentions and documents."""
    places: dict[tuple[Any, ...], dict[str, Any]] = {}
    for doc in docs:
        for loc in doc.locations:
            if loc.lat is None or loc.lon is None or not inside(loc.lat, loc.lon, area):
                continue
            key = (loc.geonames_id,) if loc.geonames_id is not None else (loc.name, loc.lat, loc.lon)
            place = places.setdefault(key, {
                "name": loc.name, "country_code": loc.country_code, "geonames_id": loc.geonames_id,
                "lat": loc.lat, "lon": loc.lon, "mentions": 0, "doc_ids": [],
            })
            place["mentions"] += 1
            if doc.id not in place["doc_ids"]:
                place["doc_ids"].append(doc.id)
    features = []
    for place in sorted(places.values(), key=lambda p: (-len(p["doc_ids"]), p["name"])):
        ids = place.pop("doc_ids")
        lat, lon = place.pop("lat"), place.pop("lon")
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {**place, "documents": len(ids), "doc_ids": ids[:max_ids]},
        })
    return {"type": "FeatureCollection", "features": features}
