"""Liveness and readiness: the one route open without credentials (for load balancers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from osintel.service.health import index_health
from search_api.auth import public
from search_api.deps import IndexDep, StoreDep

router = APIRouter(tags=["health"])


@router.get("/health", dependencies=[Depends(public("liveness probe for load balancers; reveals only counts"))])
def health(store: StoreDep, index: IndexDep) -> Any:
    """200 while the index answers; 503 while it cannot be reached (collection goes on).

    Anyone may call this, so it gives counts and flag codes only: the flags' messages can name
    internal hosts and are shown to authenticated callers by ``GET /api/sources``.
    """
    report = index_health(store, index)
    body = {
        "status": report["status"],
        "documents": report["index"]["documents"],
        "outbox": report["outbox"],
        "dead_letters": report["dead_letters"],
        "flags": [flag["code"] for flag in report["flags"]],
    }
    return JSONResponse(body, status_code=200 if report["index"]["reachable"] else 503)
