"""The enrichment worker: drain the outbox through NLP into the index.

Order per batch, so nothing is lost and nothing is indexed twice under two ids:

1. lease a batch of outbox rows (a lease expires if this process dies);
2. enrich the documents (NLP never changes captured text);
3. upsert them into the index (idempotent by document id, durable on return);
4. ack the rows and store the enriched documents, in one control-store transaction.

A failure in 2 or 3 releases the rows for a retry; rows that keep failing are parked as
``failed`` in the outbox with the error, never dropped. The stages are passed in, so this module
imports none of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from osintel.errors import OsintelError
from osintel.records import Document
from osintel.store import ControlStore

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


def drain_outbox(
    store: ControlStore,
    enricher: SupportsEnrich,
    index: SupportsUpsert,
    *,
    batch_size: int = 32,
    max_batches: int | None = None,
    progress: Callable[[DrainReport, dict[str, int]], None] | None = None,
) -> DrainReport:
    """Process pending outbox rows until none are left (or ``max_batches`` is reached)."""
    report = DrainReport()
    while max_batches is None or report.batches < max_batches:
        items = store.lease(batch_size)
        if not items:
            break
        seqs = [item.seq for item in items]
        try:
            started = time.perf_counter()
            enriched = enricher.enrich([item.document for item in items])
            report.enrich_seconds += time.perf_counter() - started
            started = time.perf_counter()
            index.upsert(enriched)
            report.index_seconds += time.perf_counter() - started
        except (OsintelError, OSError, ValueError, RuntimeError) as exc:
            # Give the rows back with the reason; they are retried, then parked as failed.
            store.release(seqs, f"{type(exc).__name__}: {exc}")
            report.failed += len(seqs)
            report.errors.append(str(exc))
            log.error("batch of %d documents failed and was released: %s", len(seqs), exc)
            if len(report.errors) >= 3 and report.indexed == 0:
                raise
            continue
        store.ack(seqs, enriched)
        report.batches += 1
        report.indexed += len(enriched)
        if progress is not None:
            progress(report, store.outbox_counts())
    return report
