"""The dead-letter table: documents a stage refused for good, with the reason, never dropped.

When the search engine rejects a document (a mapping error, a value it cannot parse), sending it
again cannot help. The document stays in the store of record; its outbox row is parked as
``failed`` and a dead letter records which stage refused it and why, in the same transaction.
An operator reads them with :func:`list_letters` (``osintel health`` counts them), fixes the cause
and calls :func:`requeue`, which puts the rows back in the outbox.

This module owns the ``dead_letters`` table in the control store.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from osintel.records import utcnow
from osintel.store import ControlStore

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 4000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One refused document: which, by which stage, why, and when."""

    id: int
    doc_id: str
    stage: str
    reason: str
    outbox_seq: int | None
    created_at: str


def record(
    store: ControlStore,
    reasons: Mapping[str, str],
    *,
    stage: str = "index",
    seqs: Mapping[str, int] | None = None,
) -> int:
    """Dead-letter ``reasons`` (document id -> reason); park their outbox rows (``seqs``: id ->
    outbox seq) as ``failed`` in the same transaction. Returns the number recorded."""
    if not reasons:
        return 0
    seqs = seqs or {}
    now = utcnow().isoformat()
    with store.transaction() as tx:
        for doc_id, reason in reasons.items():
            seq = seqs.get(doc_id)
            tx.execute(
                "INSERT INTO dead_letters(doc_id, stage, reason, outbox_seq, created_at) VALUES (?, ?, ?, ?, ?)",
                (doc_id, stage, reason[:MAX_REASON_CHARS], seq, now),
            )
            if seq is not None:
                store.park_outbox_row(tx, seq, error=f"dead-lettered by {stage}: {reason}")
    log.error("dead-lettered %d documents at stage %s (e.g. %s)", len(reasons), stage, next(iter(reasons.values())))
    return len(reasons)


def list_letters(store: ControlStore, *, limit: int = 100, include_requeued: bool = False) -> list[DeadLetter]:
    """The newest dead letters first (only those not requeued, unless asked)."""
    where = "" if include_requeued else "WHERE requeued_at IS NULL"
    rows = store.read(
        f"SELECT id, doc_id, stage, reason, outbox_seq, created_at FROM dead_letters {where} "  # noqa: S608
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]


def count_open(store: ControlStore) -> int:
    """Dead letters not requeued yet."""
    return int(store.read("SELECT COUNT(*) FROM dead_letters WHERE requeued_at IS NULL")[0][0])


def requeue(store: ControlStore, ids: list[int] | None = None) -> int:
    """Put the outbox rows of these dead letters (all open ones when ``ids`` is ``None``) back
    to ``pending`` with their attempts reset; returns how many letters were requeued."""
    now = utcnow().isoformat()
    with store.transaction() as tx:
        rows = tx.fetch_all("SELECT id, outbox_seq FROM dead_letters WHERE requeued_at IS NULL")
        chosen = [r for r in rows if ids is None or r[0] in set(ids)]
        for letter_id, seq in chosen:
            if seq is not None:
                store.requeue_outbox_row(tx, seq)
            tx.execute("UPDATE dead_letters SET requeued_at = ? WHERE id = ?", (now, letter_id))
    return len(chosen)
