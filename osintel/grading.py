"""Regrading: an analyst supervisor changes a document's 3x5x2 grading (an audited alteration).

The control store is the store of record: the new grading is written there in the same
transaction as its audit event; the caller then re-indexes the document (derived data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from osintel import audit
from osintel.errors import NotFoundError
from osintel.records import Document, Grading

if TYPE_CHECKING:
    from osintel.store import ControlStore


def regrade(store: ControlStore, doc_id: str, grading: Grading, *, actor: str, reason: str,
            purpose: str | None = None) -> Document:
    """Set ``doc_id``'s grading; returns the updated document. Raises NotFoundError."""
    with store._tx() as db:
        row = db.execute("SELECT body FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no document with id {doc_id!r}")
        doc = Document.from_json(row["body"])
        before = doc.grading.code if doc.grading else None
        doc = doc.model_copy(update={"grading": grading})
        db.execute("UPDATE documents SET body = ? WHERE id = ?", (doc.to_json(), doc_id))
        audit.record(db, actor=actor, action="alteration", purpose=purpose, detail={
            "kind": "regrade", "doc_id": doc_id, "from": before, "to": grading.code, "reason": reason,
        })
    return doc
