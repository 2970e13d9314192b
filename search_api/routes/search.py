"""Search over the index with the analyst query language."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from search_api.deps import IndexDep, SettingsDep

router = APIRouter(tags=["search"])

FACETS = ("source", "language", "method", "category", "country", "label")


class SearchHit(BaseModel):
    id: str
    score: float
    snippet: str
    title: str
    url: str
    source: str
    language: str | None
    published_at: str | None
    relevance: float
    methods: list[str]


class SearchResponse(BaseModel):
    total: int
    limit: int
    offset: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]


@router.get("/search", response_model=SearchResponse)
def search(
    index: IndexDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=2000, description="analyst query, e.g. firearms AND method:firearms.*")] = "",
    limit: Annotated[int, Query(ge=1)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort: Literal["relevance", "published", "-published"] = "relevance",
) -> Any:
    limit = min(limit, settings.index.max_page_size)
    result = index.search(q, limit=limit, offset=offset, sort=sort, facets=FACETS)
    return SearchResponse(
        total=result.total,
        limit=limit,
        offset=offset,
        facets=result.facets,
        hits=[
            SearchHit(
                id=h.document.id,
                score=h.score,
                snippet=h.snippet,
                title=h.document.title,
                url=h.document.url,
                source=h.document.source.id,
                language=h.document.language,
                published_at=h.document.published_at.isoformat() if h.document.published_at else None,
                relevance=h.document.relevance,
                methods=[m.id for m in h.document.methods],
            )
            for h in result.hits
        ],
    )
