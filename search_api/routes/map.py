"""``GET /api/map``: a GeoJSON FeatureCollection of the places a query's documents mention."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from osintel import audit
from search_api.aggregate import geojson, top_documents
from search_api.auth import Principal, require
from search_api.deps import IndexDep, PurposeDep, SettingsDep, StoreDep
from search_api.filters import FiltersDep, QueryText, compile_search, parse_bbox, parse_near

router = APIRouter(tags=["map"])


@router.get("/map", responses={200: {"description": "GeoJSON FeatureCollection (RFC 7946), lon/lat order",
                                     "content": {"application/geo+json": {}}}})
def map_features(
    principal: Annotated[Principal, Depends(require("search"))],
    index: IndexDep, store: StoreDep, settings: SettingsDep, purpose: PurposeDep, filters: FiltersDep,
    q: QueryText = "",
    hits: Annotated[int | None, Query(ge=1, description="top hits whose places are drawn (capped)")] = None,
) -> dict[str, Any]:
    """One Point per geocoded place in the top hits, with mention and document counts."""
    node = compile_search(q, filters, phone_region=settings.nlp.phone_default_region)
    n = min(hits or settings.api.max_aggregation_hits, settings.api.max_aggregation_hits)
    docs = list(top_documents(index, node, n=n, page_size=settings.index.max_page_size))
    # A geo filter selects documents; within them, draw only the places inside the area.
    area = parse_near(filters.near) if filters.near else parse_bbox(filters.bbox) if filters.bbox else None
    collection = geojson(docs, area=area)
    shown = sorted({i for f in collection["features"] for i in f["properties"]["doc_ids"]})
    audit.log_event(store, actor=principal.actor, action="consultation", purpose=purpose, detail={
        "kind": "map", "q": q, "filters": filters.as_dict(), "returned": shown,
    })
    collection["properties"] = {"hits_examined": len(docs)}
    return collection
