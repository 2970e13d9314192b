"""Facet counts and the ``published_at`` histogram on the embedded index (tantivy aggregations).

Facets are ``terms`` aggregations over fast keyword fields; ``entity:<LABEL>`` counts the
``LABEL|value`` terms of :data:`~indexer.search_common.ENTITY_FACET_FIELD` with that label.
Values come back most frequent first, ties in value order (as Elasticsearch orders them).
The histogram aggregates per UTC day and regroups days into ISO weeks (Monday) or months here,
since tantivy only has fixed intervals; empty buckets between the first and last are filled in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import tantivy

from indexer.base import ENTITY_FACET_PREFIX, FACET_FIELDS, HISTOGRAM_INTERVALS
from indexer.search_common import ENTITY_FACET_FIELD
from indexer.tantivy_schema import STORY_KEY
from osintel.errors import IndexBackendError, QueryError

#: Largest ``facet_size`` a search may ask for.
MAX_FACET_SIZE = 1000
#: Most buckets a histogram may return; past it ask for a coarser interval or a date range.
MAX_HISTOGRAM_BUCKETS = 10_000
# Extra values fetched past facet_size, so that ties at the cut are resolved in value order.
_FACET_MARGIN = 10
_LABEL_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
_HISTOGRAM_AGG = "__histogram"
_STORIES_AGG = "__stories"


@dataclass(frozen=True, slots=True)
class Aggregation:
    """What one pass over the matches counted: facets, histogram buckets, and (when asked)
    tantivy's ``cardinality`` estimate (HyperLogLog) of the distinct stories."""

    facets: dict[str, dict[str, int]]
    histogram: list[tuple[str, int]]
    stories: float | None = None


def check_facets(facets: Sequence[str], facet_size: int) -> list[str]:
    """The distinct facet names, validated; raises :class:`QueryError` for an unknown one."""
    if not 1 <= facet_size <= MAX_FACET_SIZE:
        raise QueryError(f"facet_size must be between 1 and {MAX_FACET_SIZE}, not {facet_size}")
    names = list(dict.fromkeys(facets))
    for name in names:
        if name in FACET_FIELDS:
            continue
        if name.startswith(ENTITY_FACET_PREFIX):
            label = name[len(ENTITY_FACET_PREFIX) :]
            if _LABEL_RE.match(label.upper()):
                continue
            raise QueryError(f"facet {name!r} needs an entity label such as entity:PERSON")
        known = ", ".join((*FACET_FIELDS, f"{ENTITY_FACET_PREFIX}<LABEL>"))
        raise QueryError(f"unknown facet {name!r}; known facets: {known}")
    return names


def check_interval(interval: str | None) -> None:
    """Raise :class:`QueryError` unless ``interval`` is ``None`` or a histogram interval."""
    if interval is not None and interval not in HISTOGRAM_INTERVALS:
        raise QueryError(
            f"unknown histogram interval {interval!r}; expected one of "
            f"{', '.join(HISTOGRAM_INTERVALS)}"
        )


def aggregate(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    facets: Sequence[str],
    *,
    facet_size: int,
    interval: str | None,
    stories: bool = False,
) -> Aggregation:
    """Facet counts, histogram buckets and (``stories``) the estimated number of distinct
    stories over every match of ``query``, in one pass of the engine (none if nothing is asked)."""
    if not facets and interval is None and not stories:
        return Aggregation({}, [])
    spec: dict[str, Any] = {}
    for position, name in enumerate(facets):
        terms: dict[str, Any] = {"size": facet_size + _FACET_MARGIN}
        if name.startswith(ENTITY_FACET_PREFIX):
            label = name[len(ENTITY_FACET_PREFIX) :].upper()
            terms.update(field=ENTITY_FACET_FIELD, include=f"{label}\\|.*")
        else:
            terms["field"] = name
        spec[f"f{position}"] = {"terms": terms}
    if interval is not None:
        spec[_HISTOGRAM_AGG] = {
            "date_histogram": {"field": "published", "fixed_interval": "1d", "min_doc_count": 1}
        }
    if stories:
        spec[_STORIES_AGG] = {"cardinality": {"field": STORY_KEY}}
    try:
        result = searcher.aggregate(query, spec)
    except ValueError as exc:
        raise IndexBackendError(f"facet counting failed: {exc}") from exc
    counts: dict[str, dict[str, int]] = {}
    for position, name in enumerate(facets):
        strip = name.startswith(ENTITY_FACET_PREFIX)
        values = {
            (str(b["key"]).split("|", 1)[1] if strip else str(b["key"])): int(b["doc_count"])
            for b in result[f"f{position}"]["buckets"]
        }
        top = sorted(values.items(), key=lambda item: (-item[1], item[0]))[:facet_size]
        counts[name] = dict(top)
    buckets: list[tuple[str, int]] = []
    if interval is not None:
        days = {
            datetime.fromtimestamp(b["key"] / 1000, tz=timezone.utc).date(): int(b["doc_count"])
            for b in result[_HISTOGRAM_AGG]["buckets"]
        }
        buckets = regroup(days, interval)
    estimate = float(result[_STORIES_AGG]["value"] or 0) if stories else None
    return Aggregation(counts, buckets, estimate)


def _bucket_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: date, interval: str) -> date:
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


def regroup(days: dict[date, int], interval: str) -> list[tuple[str, int]]:
    """Per-day counts as ``[(bucket start ISO date, count)]`` for ``interval``, gaps filled."""
    if not days:
        return []
    totals: Counter[date] = Counter()
    for day, count in days.items():
        totals[_bucket_start(day, interval)] += count
    first, last = min(totals), max(totals)
    out: list[tuple[str, int]] = []
    current = first
    while current <= last:
        if len(out) >= MAX_HISTOGRAM_BUCKETS:
            raise QueryError(
                f"the histogram would have more than {MAX_HISTOGRAM_BUCKETS} {interval} buckets; "
                "use a coarser interval or a published:[... TO ...] range"
            )
        out.append((current.isoformat(), totals.get(current, 0)))
        current = _next_bucket(current, interval)
    return out
