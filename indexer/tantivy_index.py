"""The embedded search index: tantivy (a Rust, Lucene-like engine) in a directory.

Readers never lock: any number of processes (the API server, ``osintel search``) may open the
same directory. Writing takes tantivy's single-writer lock, lazily, on the first
:meth:`TantivyIndex.upsert` or :meth:`TantivyIndex.delete`, and holds it until
:meth:`TantivyIndex.close`. A second writer fails with :class:`IndexBackendError`.
"""

from __future__ import annotations

import html
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import cast

import tantivy

from indexer.base import Hit, Node, PreparedBatch, SearchResult, SortOrder, canonical_sort
from indexer.query import DEFAULT_PHONE_REGION, check_query, parse_query
from indexer.search_common import (
    check_story_window,
    decode_story_cursor,
    encode_story_cursor,
    fingerprint,
    mode_for,
)
from indexer.tantivy_cache import VersionCache, read_version
from indexer.tantivy_collapse import collapsed_page, count_copies, stories_estimate
from indexer.tantivy_facets import Aggregation, aggregate, check_facets, check_interval
from indexer.tantivy_geo import has_geo, resolve_geo
from indexer.tantivy_paging import Pager, decode_cursor, encode_cursor
from indexer.tantivy_query import TantivyCompiler
from indexer.tantivy_schema import BACKEND, TEXT_ANALYZER, build_schema, match_count, prepare, text_analyzer
from osintel.errors import IndexBackendError, QueryError
from osintel.records import Document

logger = logging.getLogger(__name__)

#: Deepest hit (offset + limit) a search may reach; deeper paging should refine the query.
MAX_RESULT_WINDOW = 10_000
SNIPPET_CHARS = 200
# Tantivy needs at least 15 MB of writer heap per indexing thread.
_MIN_HEAP_PER_THREAD = 15_000_000


class TantivyIndex:
    """An :class:`~indexer.base.Index` stored in ``path`` (created if missing).

    ``max_page_size`` caps ``limit`` in :meth:`search` (larger requests are clamped).
    ``phone_region`` is the default region for phone numbers without a country code, at index
    and at query time.
    """

    def __init__(
        self,
        path: Path,
        *,
        writer_heap_bytes: int = 100_000_000,
        max_page_size: int = 500,
        phone_region: str = DEFAULT_PHONE_REGION,
    ) -> None:
        self.path = Path(path)
        self.max_page_size = max_page_size
        self.phone_region = phone_region
        self._heap = writer_heap_bytes
        self._writer: tantivy.IndexWriter | None = None
        self._write_lock = threading.Lock()
        self._closed = False
        self._schema = build_schema()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            if "schema does not match" in str(exc):
                raise IndexBackendError(
                    f"the search index at {self.path} was built with a different schema "
                    "(an older osintel version?); delete that directory and rebuild the index "
                    "from the store with `osintel reindex --to embedded`"
                ) from exc
            raise IndexBackendError(f"cannot open search index at {self.path}: {exc}") from exc
        except OSError as exc:
            raise IndexBackendError(f"cannot open search index at {self.path}: {exc}") from exc
        self._index.register_tokenizer(TEXT_ANALYZER, text_analyzer())
        self._compiler = TantivyCompiler(self._schema)
        #: Facet/histogram/story counts and resolved geo filters of the current index version.
        self.cache = VersionCache()

    # --- lifecycle ---

    def close(self) -> None:
        """Release the writer (and its lock). Idempotent."""
        with self._write_lock:
            self._closed = True
            writer, self._writer = self._writer, None
            if writer is not None:
                # Consumes the writer, waits for merges and releases the directory lock.
                writer.wait_merging_threads()

    def __enter__(self) -> TantivyIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise IndexBackendError(f"the search index at {self.path} is closed")

    def _get_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            threads = max(1, min(os.cpu_count() or 1, 8, self._heap // _MIN_HEAP_PER_THREAD))
            try:
                self._writer = self._index.writer(self._heap, threads)
            except ValueError as exc:
                if "LockBusy" in str(exc):
                    raise IndexBackendError(
                        f"the search index at {self.path} is locked by another writer "
                        "(is another osintel process indexing?)"
                    ) from exc
                raise IndexBackendError(f"cannot open a writer on {self.path}: {exc}") from exc
        return self._writer

    # --- writes ---

    def upsert(self, docs: Sequence[Document]) -> None:
        """Insert or replace ``docs`` by id, then commit. A repeated id in a batch: last wins."""
        if docs:
            self.write(prepare(docs, phone_region=self.phone_region))

    def write(self, batch: PreparedBatch) -> None:
        """Write documents :func:`~indexer.tantivy_schema.prepare` mapped (by id), then commit."""
        if batch.backend != BACKEND:
            raise IndexBackendError(f"a batch mapped for {batch.backend} cannot be written to the embedded index")
        if not batch.ids:
            return
        with self._write_lock:
            self._check_open()
            writer = self._get_writer()
            try:
                for doc_id, tantivy_doc in zip(batch.ids, batch.payload, strict=True):
                    writer.delete_documents_by_term("id", doc_id)
                    writer.add_document(cast(tantivy.Document, tantivy_doc))
                writer.commit()
            except Exception as exc:
                self._rollback(writer)
                message = f"indexing {len(batch.ids)} documents failed: {exc}"
                raise IndexBackendError(message) from exc
        self._index.reload()
        logger.debug("indexed %s documents", len(batch.ids), extra={"index_path": str(self.path)})

    def delete(self, ids: Sequence[str]) -> None:
        """Remove documents by id, then commit. Unknown ids are ignored."""
        if not ids:
            return
        with self._write_lock:
            self._check_open()
            writer = self._get_writer()
            try:
                for doc_id in ids:
                    writer.delete_documents_by_term("id", doc_id)
                writer.commit()
            except Exception as exc:
                self._rollback(writer)
                raise IndexBackendError(f"deleting {len(ids)} documents failed: {exc}") from exc
        self._index.reload()

    @staticmethod
    def _rollback(writer: tantivy.IndexWriter) -> None:
        try:
            writer.rollback()
        except Exception:  # the original error is the one worth reporting
            logger.exception("rollback of the search index writer failed")

    # --- reads ---

    def _searcher(self) -> tantivy.Searcher:
        self._check_open()
        # Cheap when nothing changed; picks up commits made by other processes at once.
        self._index.reload()
        return self._index.searcher()

    def _versioned_searcher(self) -> tuple[tantivy.Searcher, bytes | None]:
        """A fresh searcher and its index version (``None`` if a commit landed meanwhile); see
        :mod:`indexer.tantivy_cache`."""
        self._check_open()
        before = read_version(self.path)
        self._index.reload()
        searcher = self._index.searcher()
        return searcher, (before if read_version(self.path) == before else None)

    def _resolve(self, searcher: tantivy.Searcher, version: bytes | None, node: Node) -> Node:
        if not has_geo(node):
            return node
        key = ("geo", node)
        cached = self.cache.get(version, key)
        if cached is not None:
            return cast(Node, cached)
        resolved = resolve_geo(searcher, self._compiler, node)
        self.cache.put(version, key, resolved)
        return resolved

    def _aggregate(
        self,
        searcher: tantivy.Searcher,
        version: bytes | None,
        compiled: tantivy.Query,
        resolved: Node,
        facets: list[str],
        *,
        facet_size: int,
        interval: str | None,
        stories: bool,
    ) -> Aggregation:
        if not facets and interval is None and not stories:
            return Aggregation({}, [])
        key = ("aggregate", resolved, tuple(facets), facet_size, interval, stories)
        counted = self.cache.get(version, key)
        if not isinstance(counted, Aggregation):
            counted = aggregate(searcher, compiled, facets, facet_size=facet_size, interval=interval,
                                stories=stories)
            self.cache.put(version, key, counted)
        # Copies: a caller may change what it gets.
        return Aggregation({name: dict(values) for name, values in counted.facets.items()},
                           list(counted.histogram), counted.stories)

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def get(self, doc_id: str) -> Document | None:
        searcher = self._searcher()
        query = tantivy.Query.term_query(self._schema, "id", doc_id)
        result = searcher.search(query, 1)
        if not result.hits:
            return None
        return self._document(searcher.doc(result.hits[0][1]))

    def search(
        self,
        query: str | Node,
        *,
        limit: int = 10,
        offset: int = 0,
        sort: SortOrder = "best_match",
        facets: Sequence[str] = (),
        facet_size: int = 20,
        cursor: str | None = None,
        histogram: str | None = None,
        collapse: bool = False,
    ) -> SearchResult:
        """Search with the analyst query language; see :mod:`indexer.query` and
        :meth:`indexer.base.Index.search`.

        ``sort``: ``best_match`` (BM25; alias ``relevance``), ``relevance_score`` (the
        enrichment's relevance, highest first), ``-published`` (newest first) or ``published``
        (oldest first); undated documents come last either way, and ties are broken on the id
        (see :mod:`indexer.tantivy_paging`). ``collapse``: one hit per story
        (:mod:`indexer.tantivy_collapse`). ``limit`` is clamped to ``max_page_size``;
        ``limit=0`` returns only the total, facets and histogram.
        """
        if limit < 0 or offset < 0:
            raise QueryError("limit and offset must not be negative")
        sort = canonical_sort(sort)  # type: ignore[assignment]
        facet_names = check_facets(facets, facet_size)
        check_interval(histogram)
        if cursor is not None and offset:
            raise QueryError("pass either offset or cursor, not both")
        limit = min(limit, self.max_page_size)
        if cursor is None and not collapse and offset + limit > MAX_RESULT_WINDOW:
            raise QueryError(
                f"cannot page beyond hit {MAX_RESULT_WINDOW} with offset; use the cursor "
                "(next_cursor) to page deeper"
            )
        if isinstance(query, str):
            node = parse_query(query, phone_region=self.phone_region)
        else:
            node = check_query(query)
        mode = mode_for(node, sort)
        print_ = fingerprint(node, sort, collapse=collapse)
        after = None
        if collapse:
            offset = decode_story_cursor(cursor, print_) if cursor is not None else offset
            check_story_window(offset, limit)
        elif cursor is not None:
            after = decode_cursor(cursor, print_, mode)

        searcher, version = self._versioned_searcher()
        resolved = self._resolve(searcher, version, node)
        compiled = self._compiler.compile(resolved)
        pager = Pager(searcher, self._schema, compiled, mode)
        copies: list[int] | None = None
        stories: int | None = None
        seen = 0
        if collapse:
            page = collapsed_page(pager, searcher, skip=offset, take=limit)
            rows, more, copies, stories = page.rows, page.more, page.copies, page.stories
            total, seen = page.total, page.seen
            stories_exact = stories is not None
        else:
            rows, more = pager.page(after=after, skip=offset, take=limit) if limit else ([], False)
            # A cursor page counted only what follows the cursor.
            total = pager.total if pager.total is not None else self._count(searcher, compiled)
            stories_exact = False

        hits: list[Hit] = []
        if rows:
            snippets = tantivy.SnippetGenerator.create(searcher, compiled, self._schema, "text")
            snippets.set_max_num_chars(SNIPPET_CHARS)
            for row in rows:
                stored = searcher.doc(row.address)
                document = self._document(stored)
                row.doc_id = document.id
                score = row.score if mode == "score" else (1.0 if mode == "id" else 0.0)
                snippet = self._snippet(snippets, stored, document)
                hits.append(Hit(document.id, score, snippet, document))
        if collapse and hits:
            if copies is None:
                stories_of = [hit.document.story_id for hit in hits]
                copies = count_copies(searcher, self._schema, compiled, stories_of)
            hits = [Hit(h.id, h.score, h.snippet, h.document, n) for h, n in zip(hits, copies)]
        next_cursor = None
        if more and rows:
            depth = (after.depth if after else offset) + len(rows)
            if collapse:
                next_cursor = encode_story_cursor(print_, depth)
            else:
                next_cursor = encode_cursor(print_, pager.cursor_after(rows[-1], depth))
        # Facets, histogram and the stories' estimate share one pass over the matches, which
        # is kept until the index changes.
        counted = self._aggregate(
            searcher,
            version,
            compiled,
            resolved,
            facet_names,
            facet_size=facet_size,
            interval=histogram,
            stories=collapse and stories is None,
        )
        if collapse and stories is None:
            stories = stories_estimate(counted.stories, floor=seen, total=total)
        facet_counts, buckets = counted.facets, counted.histogram
        return SearchResult(
            total=total,
            hits=hits,
            facets=facet_counts,
            next_cursor=next_cursor,
            histogram=buckets,
            stories=stories,
            stories_exact=stories_exact,
        )

    @staticmethod
    def _count(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
        try:
            return match_count(searcher.search(query, 1, count=True))
        except ValueError as exc:
            raise IndexBackendError(f"search failed: {exc}") from exc

    @staticmethod
    def _snippet(
        generator: tantivy.SnippetGenerator, stored: tantivy.Document, document: Document
    ) -> str:
        # to_html() escapes the crawled text and wraps matches in <b>.
        snippet = generator.snippet_from_doc(stored)
        if snippet.highlighted():
            return snippet.to_html()
        text = document.text
        lead = html.escape(text[:SNIPPET_CHARS])
        return lead + ("…" if len(text) > SNIPPET_CHARS else "")

    @staticmethod
    def _document(stored: tantivy.Document) -> Document:
        data = stored.get_first("json")
        if data is None:
            raise IndexBackendError("an indexed document has no stored record")
        return Document.from_json(data)
