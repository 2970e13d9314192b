"""Retention: review dates from each source's policy, legal holds, and erasure of expired items.

A document's review date is its ``retention_review_at`` when a supervisor set one explicitly,
else ``collected_at`` plus its source's ``options.retention_days`` in ``sources.yaml`` (or the
``[retention] default_days`` setting). The date is computed, not stamped at collection, so a
changed source policy applies to everything already held.

``osintel retention run`` erases every document past its review date that has no legal hold:

- from the search index first (derived data; a crash after this step leaves the document in the
  store and the next run erases it again),
- then from the control store (document, outbox rows, content hash, near-duplicate fingerprint,
  seen-URL rows, legal hold, alert state, dead letters: :meth:`ControlStore.erase_document`) in one
  transaction with its ``erasure`` audit event, which names the document,
  source and capture record but never the content;
- and from the WARC index: the application's only route from a document to its WARC record is
  the document's ``capture`` pointer, which goes with the document. WARC files themselves are
  write-once evidence (read-only, hash-verified) and are not rewritten here; the erased record's
  (file, record id) is listed in ``erased_captures`` so a supervised evidence-disposal step can
  purge the bytes when a file's last live record expires, and so nothing serves them meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from osintel import audit
from osintel.errors import NotFoundError
from osintel.records import utc, utcnow

if TYPE_CHECKING:
    from indexer import Index
    from osintel.sources import SourceConfig
    from osintel.store import ControlStore

log = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    """What :func:`run` found and did."""

    checked: int = 0
    due: int = 0
    held: int = 0
    erased: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "due": self.due, "held": self.held,
                "erased": len(self.erased), "erased_ids": list(self.erased), "dry_run": self.dry_run}


def source_days(sources: SourceConfig | None, source_id: str, default_days: int) -> int:
    """Days a document from ``source_id`` is kept before review (its policy or the default)."""
    if sources is not None:
        for source in sources.sources:
            if source.id == source_id:
                days = source.options.get("retention_days")
                if isinstance(days, int) and not isinstance(days, bool) and days > 0:
                    return days
    return default_days


def review_date(*, collected_at: datetime, explicit: datetime | None, days: int) -> datetime:
    """The effective review date: an explicit one wins, else collection time plus ``days``."""
    return utc(explicit) if explicit is not None else utc(collected_at) + timedelta(days=days)


def hold(store: ControlStore, doc_id: str) -> dict[str, Any] | None:
    """The legal hold on ``doc_id`` (reason, set_by, set_at), or None."""
    rows = store.read("SELECT reason, set_by, set_at FROM retention_holds WHERE doc_id = ?", (doc_id,))
    return dict(rows[0]) if rows else None


def set_hold(store: ControlStore, doc_id: str, *, actor: str, reason: str, purpose: str | None = None) -> None:
    """Put ``doc_id`` under legal hold (retention will not erase it); an audited alteration."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a legal hold needs a reason")
    with store.transaction() as tx:
        if not store.document_exists(doc_id, tx=tx):
            raise NotFoundError(f"no document with id {doc_id!r}")
        tx.execute(
            "INSERT INTO retention_holds(doc_id, reason, set_by, set_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(doc_id) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by,"
            " set_at = excluded.set_at",
            (doc_id, reason[:1000], actor, utcnow().isoformat()),
        )
        audit.record(tx, actor=actor, action="alteration", purpose=purpose,
                     detail={"kind": "retention.hold", "doc_id": doc_id, "reason": reason[:1000]})


def release_hold(store: ControlStore, doc_id: str, *, actor: str, purpose: str | None = None) -> bool:
    """Lift the legal hold on ``doc_id``; False when there was none."""
    with store.transaction() as tx:
        if not tx.execute("DELETE FROM retention_holds WHERE doc_id = ?", (doc_id,)):
            return False
        audit.record(tx, actor=actor, action="alteration", purpose=purpose,
                     detail={"kind": "retention.release", "doc_id": doc_id})
    return True


def due(store: ControlStore, sources: SourceConfig | None, *, default_days: int,
        now: datetime | None = None) -> tuple[list[dict[str, Any]], RetentionReport]:
    """Documents past their review date, with whether each is held."""
    now = now or utcnow()
    report = RetentionReport()
    held = {r["doc_id"] for r in store.read("SELECT doc_id FROM retention_holds")}
    out: list[dict[str, Any]] = []
    for ref in store.document_refs():
        report.checked += 1
        explicit = datetime.fromisoformat(ref.review_at) if ref.review_at else None
        when = review_date(collected_at=datetime.fromisoformat(ref.collected_at), explicit=explicit,
                           days=source_days(sources, ref.source_id, default_days))
        if when > now:
            continue
        report.due += 1
        is_held = ref.id in held
        report.held += int(is_held)
        out.append({"doc_id": ref.id, "source": ref.source_id, "review_at": when.isoformat(), "held": is_held})
    return out, report


def run(store: ControlStore, index: Index, sources: SourceConfig | None, *, default_days: int, actor: str,
        now: datetime | None = None, dry_run: bool = False, batch_size: int = 100,
        purpose: str | None = None) -> RetentionReport:
    """Erase expired, unheld documents from the index, the control store and the WARC index."""
    items, report = due(store, sources, default_days=default_days, now=now)
    report.dry_run = dry_run
    expired = [i for i in items if not i["held"]]
    if dry_run:
        report.erased = [i["doc_id"] for i in expired]
        return report
    for start in range(0, len(expired), batch_size):
        batch = expired[start:start + batch_size]
        # Index first: it is derived data, and a document still in the store can be erased again.
        index.delete([i["doc_id"] for i in batch])
        for item in batch:
            if _erase(store, item, actor=actor, purpose=purpose):
                report.erased.append(item["doc_id"])
    log.info("retention: %s checked, %s due, %s held, %s erased", report.checked, report.due, report.held,
             len(report.erased))
    return report


def _erase(store: ControlStore, item: dict[str, Any], *, actor: str, purpose: str | None) -> bool:
    doc_id = item["doc_id"]
    with store.transaction() as tx:
        # Re-check inside the transaction: a hold set since the scan wins.
        if tx.fetch_one("SELECT 1 FROM retention_holds WHERE doc_id = ?", (doc_id,)):
            return False
        records = store.erase_document(tx, doc_id)  # erased and recorded in one transaction
        if records is None:
            return False
        captures = _capture_pointers(*records)
        seq = audit.record(tx, actor=actor, action="erasure", purpose=purpose, detail={
            "kind": "retention", "doc_id": doc_id, "source": item["source"], "review_at": item["review_at"],
            "captures": captures,
        })
        now = utcnow().isoformat()
        for cap in captures:
            tx.execute("INSERT OR IGNORE INTO erased_captures(warc_file, record_id, doc_id, erased_at, audit_seq)"
                       " VALUES (?, ?, ?, ?, ?)", (cap["warc_file"], cap["record_id"], doc_id, now, seq))
    return True


def _capture_pointers(capture: Any, previous: Any) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for value in (capture, previous):
        if not value:
            continue
        for cap in value if isinstance(value, list) else [value]:
            if isinstance(cap, dict) and cap.get("warc_file") and cap.get("record_id"):
                found.append({"warc_file": str(cap["warc_file"]), "record_id": str(cap["record_id"])})
    return found


def erased_capture(store: ControlStore, warc_file: str, record_id: str) -> bool:
    """True when the WARC record was erased by retention (nothing may serve it)."""
    return bool(store.read("SELECT 1 FROM erased_captures WHERE warc_file = ? AND record_id = ?",
                             (warc_file, record_id)))


def held_ids(store: ControlStore, ids: Sequence[str]) -> set[str]:
    """The subset of ``ids`` under legal hold."""
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    return {r["doc_id"] for r in store.read(f"SELECT doc_id FROM retention_holds WHERE doc_id IN ({marks})",
                                              list(ids))}
