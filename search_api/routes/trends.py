"""``GET /api/trends``: how often methods, entities or places occur over time for a query."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from indexer import And, MatchAll, Node, Term
from osintel import audit
from osintel.errors import QueryError
from search_api.auth import Principal, require
from search_api.deps import IndexDep, PurposeDep, SettingsDep, StoreDep
from search_api.filters import FiltersDep, QueryText, compile_search

router = APIRouter(tags=["trends"])

_ENTITY_RE = re.compile(r"^entity:[A-Z][A-Z_]{1,31}$")
#: Dimension -> (facet counted, query field that selects one value).
_DIMENSIONS: dict[str, tuple[str, str]] = {
    "method": ("method", "method"), "category": ("category", "category"), "crimetype": ("crimetype", "crimetype"),
    "country": ("country", "country"),
    "source": ("source", "source"), "language": ("language", "language"), "label": ("label", "label"),
}


class Bucket(BaseModel):
    start: str
    count: int


class Series(BaseModel):
    value: str
    total: int
    buckets: list[Bucket]


class TrendsResponse(BaseModel):
    total: int
    by: str
    interval: str
    overall: list[Bucket]
    series: list[Series]


def _and(node: Node, clause: Node) -> Node:
    if isinstance(node, MatchAll):
        return clause
    return And((node, clause))


def _align(rows: list[tuple[str, int]], starts: list[str]) -> list[Bucket]:
    counts = dict(rows)
    return [Bucket(start=s, count=counts.get(s, 0)) for s in starts]


@router.get("/trends", response_model=TrendsResponse)
def trends(
    principal: Annotated[Principal, Depends(require("search"))],
    index: IndexDep, store: StoreDep, settings: SettingsDep, purpose: PurposeDep, filters: FiltersDep,
    q: QueryText = "",
    by: Annotated[str, Query(max_length=40, description="method, category, crimetype, country (places), source, "
                                                         "language, label or entity:LABEL")] = "method",
    interval: Literal["day", "week", "month"] = "week",
    top: Annotated[int, Query(ge=1, le=20, description="values charted")] = 5,
) -> TrendsResponse:
    """The ``top`` values of ``by`` for the query, each counted per ``interval`` of publication."""
    if by in _DIMENSIONS:
        facet, field = _DIMENSIONS[by]
    elif _ENTITY_RE.match(by):
        facet, field = by, "entity"
    else:
        raise QueryError(f"parameter 'by': {by!r} is not one of {', '.join(_DIMENSIONS)} or entity:LABEL")
    node = compile_search(q, filters, phone_region=settings.nlp.phone_default_region)
    result = index.search(node, limit=0, facets=[facet], facet_size=top, histogram=interval)
    overall = list(result.histogram)
    series_rows: list[tuple[str, int, list[tuple[str, int]]]] = []
    for value, count in list(result.facets.get(facet, {}).items())[:top]:
        # Facet values are already in the index's normalised form, so a Term matches them exactly.
        sub = index.search(_and(node, Term(field, value)), limit=0, histogram=interval)
        series_rows.append((value, count, list(sub.histogram)))
    starts = sorted({s for s, _ in overall} | {s for _, _, rows in series_rows for s, _ in rows})
    audit.log_event(store, actor=principal.actor, action="consultation", purpose=purpose, detail={
        "kind": "trends", "q": q, "filters": filters.as_dict(), "by": by, "interval": interval,
        "total": result.total,
    })
    return TrendsResponse(
        total=result.total, by=by, interval=interval, overall=_align(overall, starts),
        series=[Series(value=v, total=n, buckets=_align(rows, starts)) for v, n, rows in series_rows],
    )
