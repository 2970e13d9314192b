"""Hand-listed regions, islands and archipelagos with approximate centroids.

``nlp/data/regions.tsv`` lists US states, Canadian provinces, Australian states, UK nations,
counties and regions, European, Brazilian, South African, Pakistani, Indian and Indonesian regions
the generated table cannot link, geographic and historical regions (Darfur, Crimea, Siberia) and
the islands common in news and maritime reports, each with its country, the GeoNames admin1 code
of the places inside it (when known) and a hand centroid to about 0.1-0.5 degree. The gazetteer
prefers these rows over the generated first-level regions of ``nlp/data/admin1.tsv``
(``tools/geo/build_places.py``) for the same name. Rows flagged ``qualifier`` ("New York",
"Washington") are too ambiguous to be places on their own and are only used after a city
("Seattle, Washington").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REGIONS_PATH = Path(__file__).parent / "data" / "regions.tsv"


@dataclass(frozen=True)
class Region:
    name: str
    country_code: str
    admin1: str | None
    lat: float
    lon: float
    qualifier_only: bool = False


@lru_cache(maxsize=4)
def load_regions(path: Path = REGIONS_PATH) -> tuple[Region, ...]:
    """The rows of the region table (comments and blank lines skipped)."""
    rows: list[Region] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        name, code, admin1, lat, lon = (c.strip() for c in cols[:5])
        flags = cols[5].strip() if len(cols) > 5 else ""
        rows.append(Region(name, code, admin1 or None, float(lat), float(lon), flags == "qualifier"))
    return tuple(rows)


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))
