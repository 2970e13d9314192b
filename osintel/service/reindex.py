"""Rebuild a search index from the store of record (``osintel reindex --to elasticsearch|embedded``).

The index is derived data; the control store holds every enriched document. Reindexing reads
them in id order, in batches, and upserts them into the target:

- ``--to elasticsearch``: into the versioned index of the current mapping
  (``<prefix>-documents-v<N>``). When the aliases point elsewhere (an older mapping) or nowhere,
  the new index is filled first and both aliases are then swapped to it in one atomic request, so
  searches never see a half-built index; the old index is kept (``--delete-old`` drops it).
  Documents the enrichment worker indexed meanwhile (into the old index) are written again
  after the swap, so a reindex under live traffic loses nothing.
- ``--to embedded``: into the tantivy index under the data directory.

Progress goes to stderr. A checkpoint (the last document id written, in the control store's
``cursors`` table) makes an interrupted run resume where it stopped; ``--restart`` ignores it.
Documents the engine rejects go to the dead-letter table (:mod:`osintel.service.deadletter`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from osintel.service import deadletter
from osintel.errors import ConfigError, PartialIndexError
from osintel.records import Document, utcnow
from osintel.store import ControlStore, open_store

if TYPE_CHECKING:
    from osintel.settings import Settings

TARGETS: tuple[str, ...] = ("elasticsearch", "embedded")
_CHECKPOINT_SOURCE = "_reindex"


def _enriched_after(store: ControlStore, last: str, batch_size: int) -> Iterator[list[Document]]:
    """Enriched documents with an id above ``last``, in id order, a batch at a time."""
    while batch := store.documents_page(after_id=last, limit=batch_size, enriched=True):
        yield batch
        last = batch[-1].id


def _catch_up(
    store: ControlStore, upsert: Callable[[list[Document]], None], *, since: str, batch_size: int
) -> int:
    """Upsert again every document enriched at or after ``since`` (ISO time) and up to now (later
    ones the worker writes through the new alias itself); returns how many."""
    count, after, until = 0, (since, ""), utcnow().isoformat()
    while batch := [(at, doc) for at, doc in store.documents_enriched_after(after, limit=batch_size) if at <= until]:
        upsert([doc for _, doc in batch])
        count += len(batch)
        after = (batch[-1][0], batch[-1][1].id)
    return count


def reindex(
    settings: Settings,
    *,
    to: str,
    batch_size: int = 500,
    restart: bool = False,
    delete_old: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fill the ``to`` index from the store of record; returns a summary (``--json``)."""
    if to not in TARGETS:
        raise ConfigError(f"unknown reindex target {to!r}; expected one of {', '.join(TARGETS)}")
    say = progress or (lambda message: None)
    with open_store(settings) as store:
        total = store.count_enriched()
        target, upsert, finish, close = _open_target(settings, to, say)
        key = f"{to}:{target}"
        last = "" if restart else (store.get_cursor(_CHECKPOINT_SOURCE, key) or "")
        done = store.count_enriched(through_id=last) if last else 0
        if last:
            say(f"reindex: resuming {target} after {done} documents (checkpoint {last})")
        written = rejected = 0
        started = time.perf_counter()
        window_start = utcnow().isoformat()
        try:
            for batch in _enriched_after(store, last, batch_size):
                refused: dict[str, str] = {}
                try:
                    upsert(batch)
                except PartialIndexError as exc:
                    if exc.retryable:
                        raise  # the checkpoint stays before this batch: run again to resume
                    refused = exc.rejected
                    deadletter.record(store, refused, stage=f"reindex:{to}")
                written += len(batch) - len(refused)
                rejected += len(refused)
                done += len(batch)
                store.set_cursor(_CHECKPOINT_SOURCE, key, batch[-1].id)
                rate = written / max(time.perf_counter() - started, 1e-9)
                say(f"reindex: {done}/{total} ({100 * done // max(total, 1)}%) into {target}, {rate:.0f} docs/s")
            swapped_from = finish(delete_old)
            # Documents the worker indexed while this ran went through the write alias to the old
            # index: write them again, now that the write alias points to the new one.
            caught_up = _catch_up(store, upsert, since=window_start, batch_size=batch_size)
            if caught_up:
                say(f"reindex: caught up {caught_up} documents enriched during the run")
        finally:
            close()
        store.set_cursor(_CHECKPOINT_SOURCE, key, "")
    return {
        "target": to,
        "index": target,
        "documents": total,
        "written": written,
        "rejected": rejected,
        "swapped_from": swapped_from,
        "caught_up": caught_up,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _open_target(
    settings: Settings, to: str, say: Callable[[str], None]
) -> tuple[str, Callable[[list[Document]], None], Callable[[bool], str | None], Callable[[], None]]:
    """(index name, upsert, finish(delete_old) -> old index swapped away from, close)."""
    if to == "embedded":
        from indexer.tantivy_index import TantivyIndex

        tantivy_index = TantivyIndex(
            settings.index_dir,
            writer_heap_bytes=settings.index.writer_heap_bytes,
            max_page_size=settings.index.max_page_size,
            phone_region=settings.nlp.phone_default_region,
        )
        return str(settings.index_dir), tantivy_index.upsert, lambda _delete: None, tantivy_index.close

    from indexer.elastic import ElasticIndex, options_from_settings
    from indexer.es_mapping import MAPPING_VERSION

    es = ElasticIndex(options_from_settings(settings), phone_region=settings.nlp.phone_default_region, create=False)
    es.require_reachable()
    es.put_template()
    new_index = es.create_versioned_index(MAPPING_VERSION, aliases=False)

    def finish(delete_old: bool) -> str | None:
        if es.alias_target() == new_index:
            return None
        old = es.swap_aliases(new_index)
        say(f"reindex: aliases {es.read_alias} and {es.write_alias} now point to {new_index}"
            + (f" (were {old})" if old else ""))
        if old and delete_old:
            es.client.indices.delete(index=old)
            say(f"reindex: deleted {old}")
        return old

    return new_index, lambda docs: es.upsert(docs, index=new_index), finish, es.close
