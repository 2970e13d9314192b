"""Regrading: an analyst supervisor changes a document's 3x5x2 grading (an audited alteration).

The control store is the store of record: the new grading is written there in the same
transaction as its audit event; the caller then re-indexes the document (derived data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from osintel import audit
from osintel.records import Document, Grading

if TYPE_CHECKING:
    from osintel.store import ControlStore


def regrade(store: ControlStore, doc_id: str, grading: Grading, *, actor: str, reason: str,
            purpose: str | None = None) -> Document:
    """Set ``doc_id``'s grading; returns the updated document. Raises NotFoundError."""
    with store.transaction() as tx:
        before, doc = store.set_grading(tx, doc_id, grading)
        audit.record(tx, actor=actor, action="alteration", purpose=purpose, detail={
            "kind": "regrade", "doc_id": doc_id, "from": before.code if before else None, "to": grading.code,
            "reason": reason,
        })
    return doc
