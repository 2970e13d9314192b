"""``GET /api/entities``: top entities by label for a query, and which ones occur together."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from osintel import audit
from osintel.errors import QueryError
from search_api.aggregate import cooccurrence, top_documents
from search_api.auth import Principal, require
from search_api.deps import IndexDep, PurposeDep, SettingsDep, StoreDep
from search_api.filters import FiltersDep, QueryText, compile_search

router = APIRouter(tags=["entities"])

#: Labels counted when the caller names none.
DEFAULT_LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "PHONE", "EMAIL", "VEHICLE_PLATE", "BTC_ADDRESS",
                                   "IBAN", "HANDLE", "DOMAIN")
_LABEL_RE = re.compile(r"^[A-Z][A-Z_]{1,31}$")


class EntityCount(BaseModel):
    value: str
    count: int


class EntityRef(BaseModel):
    label: str
    value: str


class Pair(BaseModel):
    a: EntityRef
    b: EntityRef
    count: int


class EntitiesResponse(BaseModel):
    total: int
    labels: dict[str, list[EntityCount]]
    pairs: list[Pair]
    hits_examined: int


@router.get("/entities", response_model=EntitiesResponse)
def entities(
    principal: Annotated[Principal, Depends(require("search"))],
    index: IndexDep, store: StoreDep, settings: SettingsDep, purpose: PurposeDep, filters: FiltersDep,
    q: QueryText = "",
    label: Annotated[list[str], Query(max_length=20, description="entity labels, e.g. PERSON, PHONE")] = [],  # noqa: B006
    size: Annotated[int, Query(ge=1, le=100, description="top values per label")] = 10,
    hits: Annotated[int | None, Query(ge=1, description="top hits paired for co-occurrence (capped)")] = None,
    pairs: Annotated[int, Query(ge=0, le=200, description="pairs to return")] = 25,
) -> EntitiesResponse:
    """Counts over every match (per label) and co-occurring pairs over the top hits."""
    labels = list(dict.fromkeys(label or DEFAULT_LABELS))
    for name in labels:
        if not _LABEL_RE.match(name):
            raise QueryError(f"parameter 'label': {name!r} is not an entity label such as PERSON")
    node = compile_search(q, filters, phone_region=settings.nlp.phone_default_region)
    facets = [f"entity:{name}" for name in labels]
    result = index.search(node, limit=0, facets=facets, facet_size=size)
    top = {name: [EntityCount(value=v, count=n) for v, n in result.facets.get(f"entity:{name}", {}).items()]
           for name in labels}
    n = min(hits or settings.api.cooccurrence_hits, settings.api.cooccurrence_hits)
    docs = list(top_documents(index, node, n=n, page_size=settings.index.max_page_size))
    found: list[Any] = cooccurrence(docs, labels=set(labels), size=pairs)
    audit.log_event(store, actor=principal.actor, action="consultation", purpose=purpose, detail={
        "kind": "entities", "q": q, "filters": filters.as_dict(), "labels": labels, "total": result.total,
        "examined": [d.id for d in docs],
    })
    return EntitiesResponse(total=result.total, labels=top, pairs=[Pair.model_validate(p) for p in found],
                            hits_examined=len(docs))
