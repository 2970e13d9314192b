"""``GET /api/search``: the analyst query language plus filters, facets, histogram and paging.

Every search is a consultation in the oversight record: the query, the filters and the ids of
the documents returned are logged with the caller and their stated purpose.

Copies of one story (near-duplicates, one ``cluster_id``) are collapsed by default: each hit
stands for its story and says how many matching ``copies`` it has; ``total`` counts matching
documents and ``stories`` the distinct stories; ``collapse=false`` lists every copy, and
``q=cluster:<id>`` the copies of one story. Sorts: ``best_match`` (the engine's full-text score;
``relevance`` is its old name), ``relevance_score`` (the enrichment's relevance assessment, the
number on each hit), ``-published``, ``published``.

Facets are counted only when named (``facet=source&facet=country``): counting them walks every
match, which at a million documents costs more than the search itself. The UI names the ones its
sidebar shows on a new query, and none when it loads the next page.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from indexer import ENTITY_FACET_PREFIX, FACET_FIELDS, SORT_ALIASES, Hit
from osintel import audit
from osintel.errors import QueryError
from search_api.auth import Principal, require
from search_api.deps import IndexDep, PurposeDep, SettingsDep, StoreDep
from search_api.filters import FiltersDep, QueryText, compile_search
from search_api.safety import safe_snippet

router = APIRouter(tags=["search"])

_ENTITY_FACET_RE = re.compile(r"^entity:[A-Z][A-Z_]{1,31}$")
SortParam = Literal["best_match", "relevance_score", "-published", "published", "relevance"]


class SearchHit(BaseModel):
    id: str
    score: float
    snippet: str = Field(description="HTML: crawled text escaped, matched terms in <b>")
    title: str
    display_title: str = Field(description="the title, or the first words of an untitled item's text")
    url: str
    source: str
    language: str | None
    published_at: str | None
    relevance: float
    grading: str | None
    methods: list[str]
    crime_types: list[str] = Field(default_factory=list, description="crime type ids, e.g. violence.homicide")
    countries: list[str]
    cluster_id: str = Field(description="story id shared by near-duplicate copies; q=cluster:<id> lists them")
    copies: int = Field(1, description="matching documents of this story (itself included) when collapsed, else 1")


class HistogramBucket(BaseModel):
    start: str
    count: int


class SearchResponse(BaseModel):
    total: int = Field(description="matching documents")
    stories: int | None = Field(None, description="distinct stories among them (when collapsed)")
    stories_exact: bool = Field(False, description="false when stories is the engine's estimate")
    collapsed: bool
    sort: str = Field(description="the sort applied (aliases resolved)")
    limit: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    histogram: list[HistogramBucket]
    next_cursor: str | None = Field(description="pass as cursor= for the next page; null on the last")
    filters: dict[str, Any]


def check_facets(names: list[str]) -> list[str]:
    """Validate facet names (a known field or ``entity:LABEL``)."""
    for name in names:
        if name not in FACET_FIELDS and not _ENTITY_FACET_RE.match(name):
            raise QueryError(f"parameter 'facet': unknown facet {name!r}; known: "
                             f"{', '.join(FACET_FIELDS)} or {ENTITY_FACET_PREFIX}LABEL (e.g. entity:PERSON)")
    return list(dict.fromkeys(names))


def hit_model(hit: Hit) -> SearchHit:
    """The API form of an index hit."""
    doc = hit.document
    return SearchHit(
        id=doc.id, score=hit.score, snippet=safe_snippet(hit.snippet), title=doc.title,
        display_title=doc.display_title(), url=doc.url,
        source=doc.source.id, language=doc.language,
        published_at=doc.published_at.isoformat() if doc.published_at else None,
        relevance=doc.relevance, grading=doc.grading.code if doc.grading else None,
        methods=[m.id for m in doc.methods],
        crime_types=[c.id for c in doc.crime_types],
        countries=sorted({loc.country_code for loc in doc.locations if loc.country_code}),
        cluster_id=doc.story_id, copies=hit.copies,
    )


@router.get("/search", response_model=SearchResponse)
def search(
    principal: Annotated[Principal, Depends(require("search"))],
    index: IndexDep,
    store: StoreDep,
    settings: SettingsDep,
    purpose: PurposeDep,
    filters: FiltersDep,
    q: QueryText = "",
    facet: Annotated[list[str], Query(
        max_length=20, description="facets to count, e.g. source, country, entity:PERSON (none unless named)",
    )] = [],  # noqa: B006
    facet_size: Annotated[int, Query(ge=1, le=200)] = 20,
    histogram: Literal["day", "week", "month"] | None = None,
    sort: Annotated[SortParam, Query(
        description="best_match (full-text score; alias: relevance), relevance_score (assessed relevance), "
                    "-published (newest first), published")] = "best_match",
    collapse: Annotated[bool, Query(description="one hit per story, with its copies counted")] = True,
    limit: Annotated[int, Query(ge=0, description="page size; capped by the server")] = 20,
    cursor: Annotated[str | None, Query(max_length=2000, description="next_cursor of the previous page")] = None,
) -> SearchResponse:
    """Search the index. Filters are AND-ed with ``q``; values within one filter are OR-ed."""
    sort = SORT_ALIASES.get(sort, sort)  # type: ignore[assignment]
    limit = min(limit, settings.index.max_page_size)
    node = compile_search(q, filters, phone_region=settings.nlp.phone_default_region)
    facets = check_facets(facet)  # counted only when named: the default is none
    result = index.search(node, limit=limit, sort=sort, facets=facets, facet_size=facet_size,
                          cursor=cursor or None, histogram=histogram, collapse=collapse)
    hits = [hit_model(h) for h in result.hits]
    audit.log_event(store, actor=principal.actor, action="consultation", purpose=purpose, detail={
        "kind": "search", "q": q, "filters": filters.as_dict(), "sort": sort, "collapse": collapse,
        "cursor": cursor, "total": result.total, "returned": [h.id for h in hits],
    })
    return SearchResponse(
        total=result.total, stories=result.stories,
        stories_exact=result.stories_exact, collapsed=collapse, sort=sort,
        limit=limit, hits=hits, facets=result.facets,
        histogram=[HistogramBucket(start=s, count=n) for s, n in result.histogram],
        next_cursor=result.next_cursor, filters=filters.as_dict(),
    )
