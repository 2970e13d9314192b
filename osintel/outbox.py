"""The outbox between collection and enrichment/indexing: the work queue, in the store of record.

A document and its outbox row are written in one transaction (:meth:`ControlStore.add_collected`),
so nothing collected is ever lost between the stages. Workers lease batches of rows, then ack them
once the index has the documents, or release them after a failure; a lease that expires (its
worker died) makes the rows available again. On PostgreSQL the lease takes its rows ``FOR UPDATE
SKIP LOCKED`` (the engine's ``lease_lock``), so workers on many machines never take the same row
and never wait for each other; on SQLite the single writer gives the same guarantee.

:class:`OutboxMixin` is part of :class:`osintel.store.ControlStore` (split out to keep each file
one component); it uses the store's transactions and reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from osintel import wakeup
from osintel.db import Engine
from osintel.records import Document, Grading, utcnow
from osintel.schema import Row, Transaction


@dataclass(frozen=True)
class OutboxItem:
    """A leased outbox row and the document it refers to."""

    seq: int
    document: Document
    attempts: int


def iso_time(value: datetime) -> str:
    """A timestamp as the store writes it (ISO 8601; the store and the outbox share the form)."""
    return value.isoformat()


def grading_code(doc: Document) -> str | None:
    """The document's reliability grading code for the ``documents.grading`` column, or None."""
    return doc.grading.code if doc.grading is not None else None


class OutboxMixin:
    """Lease, ack and release outbox rows (methods of :class:`osintel.store.ControlStore`)."""

    path: Path
    max_attempts: int
    _db: Engine

    def transaction(self) -> AbstractContextManager[Transaction]:
        raise NotImplementedError  # ControlStore's

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError  # ControlStore's

    def lease(self, limit: int, *, owner: str, lease_seconds: float = 300.0) -> list[OutboxItem]:
        """Lease up to ``limit`` pending rows for processing, in the name of ``owner``.

        A lease that is not acked before it expires (the worker died) makes the row available
        again, so nothing is lost; processing must therefore be idempotent. ``owner`` is the
        holder's identity (``osintel.service.procs.current().token``), recorded so a dead holder's
        leases can be released at once (:mod:`osintel.service.leases`); :meth:`ack` and
        :meth:`release` only touch rows still held by the ``owner`` they are given (or by no one).
        """
        now = utcnow()
        until = iso_time(now + timedelta(seconds=lease_seconds))
        with self.transaction() as tx:
            rows = tx.fetch_all(
                """SELECT o.seq, o.attempts, d.body FROM outbox o JOIN documents d ON d.id = o.doc_id
                   WHERE o.state = 'pending' AND (o.leased_until IS NULL OR o.leased_until < ?)
                   ORDER BY o.seq LIMIT ?""" + self._db.lease_lock,
                (iso_time(now), limit),
            )
            tx.executemany(
                "UPDATE outbox SET leased_until = ?, lease_owner = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE seq = ?",
                [(until, owner, iso_time(now), r["seq"]) for r in rows],
            )
        return [OutboxItem(r["seq"], Document.from_json(r["body"]), r["attempts"] + 1) for r in rows]

    def ack(self, seqs: Sequence[int], documents: Sequence[Document] = (), *, owner: str) -> None:
        """Mark rows done and store their enriched documents, in one transaction.

        Call only after the search index has acknowledged the documents. A row whose lease an
        operator has since handed to another process is left to that process.
        """
        now = iso_time(utcnow())
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE outbox SET state = 'done', leased_until = NULL, lease_owner = NULL, updated_at = ?"
                " WHERE seq = ? AND (lease_owner IS NULL OR lease_owner = ?)",
                [(now, s, owner) for s in seqs],
            )
            for doc in documents:
                doc = _keep_regrade(tx, doc, now, lock=self._db.row_lock)
                tx.execute("UPDATE documents SET body = ?, grading = ?, enriched_at = ? WHERE id = ?",
                           (doc.to_json(), grading_code(doc), now, doc.id))

    def release(self, seqs: Sequence[int], error: str, *, owner: str, count_attempt: bool = True) -> None:
        """Give leased rows back after a failure; rows past ``max_attempts`` become 'failed'.

        ``count_attempt=False`` is for system-wide faults (the index is down): the documents are
        not to blame, so the lease does not count against them and an outage of any length
        never parks them as failed.
        """
        now = iso_time(utcnow())
        refund = 0 if count_attempt else 1
        with self.transaction() as tx:
            tx.executemany(
                """UPDATE outbox SET leased_until = NULL, lease_owner = NULL, last_error = ?, updated_at = ?,
                     attempts = attempts - ?,
                     state = CASE WHEN attempts - ? >= ? THEN 'failed' ELSE 'pending' END
                   WHERE seq = ? AND (lease_owner IS NULL OR lease_owner = ?)""",
                [(error[:2000], now, refund, refund, self.max_attempts, s, owner) for s in seqs],
            )

    def outbox_counts(self) -> dict[str, int]:
        counts = {"pending": 0, "done": 0, "failed": 0}
        for row in self.read("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state"):
            counts[row["state"]] = int(row["n"])
        return counts

    def park_outbox_row(self, tx: Transaction, seq: int, *, error: str) -> None:
        """Mark an outbox row ``failed`` for good (a dead letter), inside ``tx``."""
        tx.execute("UPDATE outbox SET state = 'failed', leased_until = NULL, updated_at = ?, last_error = ?"
                   " WHERE seq = ?", (iso_time(utcnow()), error[:2000], seq))

    def requeue_outbox_row(self, tx: Transaction, seq: int) -> None:
        """Put an outbox row back to ``pending`` with its attempts reset, inside ``tx``."""
        tx.execute("UPDATE outbox SET state = 'pending', attempts = 0, leased_until = NULL, updated_at = ?"
                   " WHERE seq = ?", (iso_time(utcnow()), seq))

    def queue_documents(self, doc_ids: Sequence[str]) -> None:
        """Queue stored documents for the enrichment worker again (it re-indexes them)."""
        now = iso_time(utcnow())
        with self.transaction() as tx:
            tx.executemany("INSERT INTO outbox(doc_id, created_at, updated_at) SELECT id, ?, ? FROM documents"
                           " WHERE id = ?", [(now, now, doc_id) for doc_id in doc_ids])
        wakeup.poke(self.path)


def _keep_regrade(tx: Transaction, doc: Document, now: str, *, lock: str) -> Document:
    """An analyst's regrade made while the worker held ``doc`` wins over the worker's copy.

    The grading is the analyst's, never the NLP stage's. When it changed after the lease, the
    stored grading is kept and the document goes back into the outbox, so the index (and the
    relevance score, which depends on the grading) catch up on the next drain. ``lock`` (the
    engine's ``row_lock``) holds the row until COMMIT, so a regrade committing meanwhile on another
    machine is waited for and read here, not overwritten.
    """
    row = tx.fetch_one("SELECT grading FROM documents WHERE id = ?" + lock, (doc.id,))  # not the body: no parse
    if row is None or row["grading"] in (None, grading_code(doc)):
        return doc
    tx.execute("INSERT INTO outbox(doc_id, created_at, updated_at) VALUES (?, ?, ?)", (doc.id, now, now))
    return doc.model_copy(update={"grading": Grading.parse(row["grading"])})
