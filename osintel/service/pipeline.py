"""The enrichment worker: drain the outbox through NLP into the index.

Order per batch, so nothing is lost and nothing is indexed twice under two ids:

1. lease a batch of outbox rows (a lease expires if this process dies);
2. enrich the documents (NLP never changes captured text); a batch that fails is retried one
   document at a time, so a single poisonous document is parked and the rest go through;
3. upsert them into the index (idempotent by document id, durable on return);
4. ack the rows and store the enriched documents, in one control-store transaction.

A document that cannot be enriched is released with its error and, after ``max_attempts``,
parked as ``failed`` in the outbox, never dropped. An index failure releases the batch and is
raised: the operator sees it, and the next drain retries. A partly acknowledged batch
(:class:`~osintel.errors.PartialIndexError`) acks only the acknowledged documents, dead-letters
the rejected ones (:mod:`osintel.service.deadletter`) and releases the retryable ones. The stages are
passed in, so this module imports none of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from osintel.service import deadletter, procs
from osintel.errors import OsintelError, PartialIndexError
from osintel.records import Document
from osintel.store import ControlStore, OutboxItem

log = logging.getLogger(__name__)


class SupportsEnrich(Protocol):
    def enrich(self, docs: Sequence[Document]) -> list[Document]: ...


class SupportsUpsert(Protocol):
    def upsert(self, docs: Sequence[Document]) -> None: ...


@dataclass
class DrainReport:
    """What one :func:`drain_outbox` call did."""

    batches: int = 0
    indexed: int = 0
    failed: int = 0
    enrich_seconds: float = 0.0
    index_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    #: Pending documents left under other processes' leases (not processed by this drain) ...
    leased: int = 0
    #: ... of which held by processes not confirmed alive (dead on another host, or unrecorded).
    stuck: int = 0


def drain_outbox(
    store: ControlStore,
    enricher: SupportsEnrich,
    index: SupportsUpsert,
    *,
    batch_size: int = 32,
    max_batches: int | None = None,
    progress: Callable[[DrainReport, dict[str, int]], None] | None = None,
    after_batch: Callable[[Sequence[Document]], None] | None = None,
) -> DrainReport:
    """Process pending outbox rows until none are left (or ``max_batches`` is reached).

    ``after_batch`` (the alert stage) is called with each batch once it is indexed and acked;
    its errors are logged and never stop the drain (the alert stage catches up by its own
    high-water mark).
    """
    report = DrainReport()
    owner = procs.current().token  # the leases are held, acked and released in this process's name
    while max_batches is None or report.batches < max_batches:
        items = store.lease(batch_size, owner=owner)
        if not items:
            break
        started = time.perf_counter()
        good, bad = _enrich_isolating_failures(enricher, items)
        report.enrich_seconds += time.perf_counter() - started
        if bad:
            for item, error in bad:
                store.release([item.seq], error, owner=owner)
                log.error("document %s could not be enriched and was released: %s", item.document.id, error)
            report.failed += len(bad)
            report.errors.extend(error for _, error in bad)
        if not good:
            continue
        seqs = [item.seq for item, _ in good]
        enriched = [doc for _, doc in good]
        try:
            started = time.perf_counter()
            index.upsert(enriched)
            report.index_seconds += time.perf_counter() - started
        except PartialIndexError as exc:
            # Ack only what the engine acknowledged; dead-letter the rejected, release the rest.
            seqs, enriched = _settle_partial(store, good, exc, report, owner)
            if exc.retryable:
                store.ack(seqs, enriched, owner=owner)
                report.indexed += len(enriched)
                raise
        except (OsintelError, OSError) as exc:
            # The index is down or refusing writes: a systemic fault, not a bad document. Give the
            # rows back with the reason and stop loudly; the next drain retries them.
            store.release(seqs, f"{type(exc).__name__}: {exc}", owner=owner, count_attempt=False)
            log.error("indexing a batch of %d documents failed; released for retry: %s", len(seqs), exc)
            raise
        store.ack(seqs, enriched, owner=owner)
        report.batches += 1
        report.indexed += len(enriched)
        if after_batch is not None:
            try:
                after_batch(enriched)
            except Exception:  # noqa: BLE001 - alerting must never block indexing
                log.exception("after-batch hook failed for %d indexed documents", len(enriched))
        if progress is not None:
            progress(report, store.outbox_counts())
    return report


def _settle_partial(
    store: ControlStore, good: Sequence[tuple[OutboxItem, Document]], exc: PartialIndexError, report: DrainReport,
    owner: str,
) -> tuple[list[int], list[Document]]:
    """Dead-letter the rejected documents, release the retryable ones (not their fault: no
    attempt counted); return the seqs and documents the engine acknowledged."""
    seq_of = {doc.id: item.seq for item, doc in good}
    deadletter.record(store, exc.rejected, stage="index", seqs=seq_of)
    retry = [seq_of[doc_id] for doc_id in exc.retryable if doc_id in seq_of]
    if retry:
        store.release(retry, f"PartialIndexError: {next(iter(exc.retryable.values()))}", owner=owner,
                      count_attempt=False)
    report.failed += len(exc.rejected)
    report.errors.extend(f"{doc_id}: {reason}" for doc_id, reason in exc.failed.items())
    done = [(item.seq, doc) for item, doc in good if doc.id not in exc.failed]
    return [seq for seq, _ in done], [doc for _, doc in done]


def _enrich_isolating_failures(
    enricher: SupportsEnrich, items: Sequence[OutboxItem]
) -> tuple[list[tuple[OutboxItem, Document]], list[tuple[OutboxItem, str]]]:
    """Enrich a batch; if it fails, enrich one by one so one bad document holds up no other."""
    try:
        return list(zip(items, enricher.enrich([item.document for item in items]))), []
    except OsintelError as exc:
        if len(items) == 1:
            return [], [(items[0], f"{type(exc).__name__}: {exc}")]
        log.warning("batch enrichment failed (%s); retrying its %d documents one by one", exc, len(items))
    good: list[tuple[OutboxItem, Document]] = []
    bad: list[tuple[OutboxItem, str]] = []
    for item in items:
        try:
            good.append((item, enricher.enrich([item.document])[0]))
        except OsintelError as exc:
            bad.append((item, f"{type(exc).__name__}: {exc}"))
    return good, bad
