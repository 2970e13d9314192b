"""Single documents, from the store of record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from osintel.errors import NotFoundError
from search_api.deps import StoreDep

router = APIRouter(tags=["documents"])


@router.get("/documents/{doc_id}")
def get_document(doc_id: str, store: StoreDep) -> Any:
    doc = store.get_document(doc_id)
    if doc is None:
        raise NotFoundError(f"no document with id {doc_id!r}")
    return doc.model_dump(mode="json")
