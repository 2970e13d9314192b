"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from search_api.deps import IndexDep, StoreDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: StoreDep, index: IndexDep) -> dict[str, object]:
    return {"status": "ok", "documents": index.count(), "outbox": store.outbox_counts()}
