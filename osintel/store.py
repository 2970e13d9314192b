"""The control store: the store of record, in an embedded SQLite file or a shared PostgreSQL database.

It holds the documents themselves, the outbox between collection and enrichment/indexing, crawl
runs with their stats, and the seen-URL and content-hash tables that make crawling incremental.
Its tables, and those of the modules that keep their state beside the documents, are created by
the migrations of :mod:`osintel.schema`. The engine (``[store] url``; :func:`open_store`) is one of
:mod:`osintel.db`: SQLite in WAL mode by default (:mod:`osintel.db.sqlite`), PostgreSQL when the
state is shared by several machines (:mod:`osintel.db.postgres`); the SQL is the same for both.

The public interface is the named methods below. A module owning tables of its own (audit log, API
keys, retention, sealing, dead letters, alert state) writes its SQL through :meth:`~ControlStore.transaction`
and :meth:`~ControlStore.read`; methods taking a :class:`Transaction` join the caller's transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osintel import audit, schema, wakeup
from osintel.db import Engine
from osintel.db.sqlite import SQLiteEngine
from osintel.outbox import OutboxItem as OutboxItem  # re-exported: a leased row is part of the store's API
from osintel.outbox import OutboxMixin, grading_code, iso_time
from osintel.errors import NotFoundError, StoreError
from osintel.records import Document, Grading, utcnow
from osintel.schema import Row, Transaction  # re-exported: the unit-of-work types of the store's API

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from osintel.settings import Settings

SCHEMA_VERSION = schema.SCHEMA_VERSION


def open_store(settings: Settings, *, max_attempts: int = 5) -> ControlStore:
    """The control store the settings name: ``[store] url`` (PostgreSQL) or, when it is empty, the
    SQLite file in the data directory. Every command and service opens the store through this."""
    return ControlStore(settings.store_path, max_attempts=max_attempts, url=settings.store.url)


@dataclass(frozen=True)
class MinHashRow:
    """A saved near-duplicate fingerprint (see :mod:`nlp.dedup`): no text, only hashes."""

    seq: int
    doc_id: str
    cluster_id: str
    signature: bytes
    facts: bytes
    scheme: str


@dataclass(frozen=True)
class DocumentRef:
    """A stored document's id, source and times (ISO; ``review_at``: ``retention_review_at``), no body."""

    id: str
    source_id: str
    collected_at: str
    enriched_at: str | None
    review_at: str | None


_REF = "id, source_id, collected_at, enriched_at, json_extract(body, '$.retention_review_at') AS review"


def _ref(row: Row) -> DocumentRef:
    return DocumentRef(row["id"], row["source_id"], row["collected_at"], row["enriched_at"], row["review"])


def _run(row: Row) -> dict[str, Any]:
    item = dict(row)
    item["stats"] = json.loads(item["stats"] or "{}")
    return item


def _postgres(url: str) -> Engine:
    # Imported on use: the embedded default never loads psycopg.
    from osintel.db.postgres import PostgresEngine

    return PostgresEngine(url)


class ControlStore(OutboxMixin):
    """The control store. Open with :func:`open_store` or ``ControlStore(path)`` (SQLite) /
    ``ControlStore(path, url="postgresql://…")``, applying the migrations it lacks (a store from
    a newer release is refused); close with :meth:`close`."""

    def __init__(self, path: str | Path, *, max_attempts: int = 5, url: str = "") -> None:
        self.path = Path(path)  # with a ``url`` too: the data directory's wake-up files live beside it
        self.max_attempts = max_attempts
        self._db: Engine = _postgres(url) if url else SQLiteEngine(self.path)
        if url:  # the data directory still holds the index, the evidence and the processes' files
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._migrate()
        except StoreError:
            self._db.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[Transaction]:
        """``BEGIN`` … ``COMMIT`` (one writer per process), rolled back if the block raises."""
        return self._db.transaction()

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of one query (for modules that own tables, like :meth:`transaction`).

        Sees the last commit; inside this thread's own :meth:`transaction` it sees the uncommitted rows.
        """
        return self._db.read(sql, params)

    @property
    def row_lock(self) -> str:
        """Appended to a ``SELECT`` of rows the transaction then rewrites, for owners of tables: on
        PostgreSQL it locks them until COMMIT (a concurrent writer's update is not lost); "" on SQLite."""
        return self._db.row_lock

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ControlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """The migration the store is at (0: none applied yet)."""
        if not self._db.has_table("meta"):
            return 0
        rows = self.read("SELECT value FROM meta WHERE key = 'schema_version'")
        try:
            return int(rows[0]["value"]) if rows else 0
        except ValueError:
            raise StoreError(f"control store {self._db.label}: unreadable schema version"
                             f" {rows[0]['value']!r}") from None

    def _migrate(self) -> None:
        if self.schema_version() == SCHEMA_VERSION:
            return
        with self.transaction() as tx:
            self._db.serialise_migrations(tx)
            current = self.schema_version()  # again under the write lock: another process may have migrated
            if current > SCHEMA_VERSION:
                raise StoreError(f"control store {self._db.label} has schema version {current}, newer than this"
                                 f" release knows ({SCHEMA_VERSION}): upgrade osintel to open it")
            if current <= schema.LEGACY_VERSION:
                current = 0  # tables made outside the list: replay its idempotent start
            for migration in schema.MIGRATIONS:
                if migration.version > current:
                    log.info("control store %s: migration %d (%s)", self._db.label, migration.version, migration.name)
                    for step in migration.steps:
                        self._db.apply(tx, step)
            tx.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))

    # -- incremental crawling -----------------------------------------------------------------

    def is_seen_url(self, url: str) -> bool:
        """True when ``url`` (canonical form) has been fetched and recorded before."""
        return bool(self.read("SELECT 1 FROM seen_urls WHERE url = ?", (url,)))

    def seen_urls(self, source_id: str | None = None) -> set[str]:
        """URLs recorded for one source, or for all sources when ``source_id`` is None.

        Loaded once per crawl so lookups stay in memory.
        """
        if source_id is None:
            return {r["url"] for r in self.read("SELECT url FROM seen_urls")}
        return {r["url"] for r in self.read("SELECT url FROM seen_urls WHERE source_id = ?", (source_id,))}

    def mark_seen(self, url: str, *, source_id: str, doc_id: str | None = None,
                  content_sha256: str | None = None) -> None:
        """Record that ``url`` was fetched (whether or not it produced a document)."""
        with self.transaction() as tx:
            _record_seen(tx, [url], source_id=source_id, doc_id=doc_id, content_sha256=content_sha256)

    def get_cursor(self, source_id: str, key: str) -> str | None:
        """A paging high-water mark kept between crawls (e.g. the newest post id of a timeline)."""
        rows = self.read("SELECT value FROM cursors WHERE source_id = ? AND key = ?", (source_id, key))
        return str(rows[0]["value"]) if rows else None

    def set_cursor(self, source_id: str, key: str, value: str) -> None:
        """Store a high-water mark; call only once everything up to it has been stored."""
        with self.transaction() as tx:
            tx.execute(
                """INSERT INTO cursors(source_id, key, value, updated_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT(source_id, key) DO UPDATE SET value = excluded.value,
                     updated_at = excluded.updated_at""",
                (source_id, key, value, iso_time(utcnow())),
            )

    # -- documents ----------------------------------------------------------------------------

    def add_collected(self, doc: Document, *, content_sha256: str, seen: Sequence[str] = ()) -> bool:
        """Store a newly collected document and queue it for enrichment, atomically.

        Returns False (and stores no document) when the document id or the same content is already
        held: a re-crawl or a copy under another URL never adds a duplicate. ``seen`` URLs are
        marked seen in the same transaction either way, so a crash can never leave a URL marked
        seen without its document, nor a stored document whose URL would be fetched again.
        """
        now = iso_time(utcnow())
        with self.transaction() as tx:
            _record_seen(tx, seen, source_id=doc.source.id, doc_id=doc.id, content_sha256=content_sha256)
            if tx.fetch_one("SELECT 1 FROM documents WHERE id = ?", (doc.id,)):
                return False
            if tx.fetch_one("SELECT 1 FROM content_hashes WHERE sha256 = ?", (content_sha256,)):
                return False
            # The checks above see only what was committed before: on PostgreSQL another crawler may be
            # storing the same document or content right now. Its uncommitted row makes these inserts
            # wait for its commit and then skip, so the second writer says "already had it".
            if not _insert_document(tx, doc, content_sha256, if_new=True):
                return False
            if not tx.execute("INSERT INTO content_hashes(sha256, doc_id, first_seen) VALUES (?, ?, ?)"
                              " ON CONFLICT DO NOTHING", (content_sha256, doc.id, now)):
                tx.execute("DELETE FROM documents WHERE id = ?", (doc.id,))  # a copy under another id won
                return False
            tx.execute("INSERT INTO outbox(doc_id, created_at, updated_at) VALUES (?, ?, ?)", (doc.id, now, now))
        wakeup.poke(self.path)  # committed: the worker may drain it now
        return True

    def recapture_document(self, doc: Document, *, content_sha256: str, seen: Sequence[str] = ()) -> bool:
        """Store a fresh capture of a URL (an analyst's ``osintel capture``), replacing any
        stored document with the same id, and queue it for enrichment; True when it is new.

        A replaced document keeps its source and grading (an analyst's regrade survives) and
        lists its earlier captures under ``extra["previous_captures"]``: the WARC records they
        point to stay on disk untouched.
        """
        now = iso_time(utcnow())
        with self.transaction() as tx:
            _record_seen(tx, seen, source_id=doc.source.id, doc_id=doc.id, content_sha256=content_sha256)
            # Insert first: on PostgreSQL a capture of the same URL stored concurrently is waited for
            # and then replaced, rather than both finding nothing and the second failing.
            new = _insert_document(tx, doc, content_sha256, if_new=True)
            if not new:
                _replace_capture(tx, doc, content_sha256, lock=self._db.row_lock)
            tx.execute("INSERT OR IGNORE INTO content_hashes(sha256, doc_id, first_seen) VALUES (?, ?, ?)",
                       (content_sha256, doc.id, now))
            tx.execute("INSERT INTO outbox(doc_id, created_at, updated_at) VALUES (?, ?, ?)", (doc.id, now, now))
        wakeup.poke(self.path)
        return new

    def get_document(self, doc_id: str) -> Document | None:
        rows = self.read("SELECT body FROM documents WHERE id = ?", (doc_id,))
        return Document.from_json(rows[0]["body"]) if rows else None

    def document_exists(self, doc_id: str, *, tx: Transaction | None = None) -> bool:
        """True when ``doc_id`` is stored (checked inside ``tx`` when given)."""
        sql = "SELECT 1 FROM documents WHERE id = ?"
        return bool(tx.fetch_one(sql, (doc_id,)) if tx is not None else self.read(sql, (doc_id,)))

    def iter_documents(self, *, batch_size: int = 500) -> Iterator[Document]:
        """Every stored document, in id order, read in batches."""
        last = ""
        while batch := self.documents_page(after_id=last, limit=batch_size):
            yield from batch
            last = batch[-1].id

    def documents_page(self, *, after_id: str = "", limit: int = 500, enriched: bool = False) -> list[Document]:
        """Up to ``limit`` documents (only enriched ones with ``enriched``) with an id above ``after_id``."""
        only = " AND enriched_at IS NOT NULL" if enriched else ""
        rows = self.read(f"SELECT body FROM documents WHERE id > ?{only} ORDER BY id LIMIT ?", (after_id, limit))
        return [Document.from_json(row["body"]) for row in rows]

    def count_enriched(self, *, through_id: str | None = None) -> int:
        """Enriched documents (with an id up to ``through_id`` when given)."""
        extra, params = ("", ()) if through_id is None else (" AND id <= ?", (through_id,))
        return int(self.read("SELECT COUNT(*) AS n FROM documents WHERE enriched_at IS NOT NULL" + extra, params)[0][0])

    def documents_enriched_after(
        self, after: tuple[str, str] | None = None, *, limit: int = 100
    ) -> list[tuple[str, Document]]:
        """Enriched documents in the order they were (last) enriched, as ``(enriched_at, doc)``.

        ``after`` is the ``(enriched_at, id)`` position to continue from (exclusive); this is the
        order a standing feed (TAXII) serves, so a reader never misses a document.
        """
        return [(row["enriched_at"], Document.from_json(row["body"]))
                for row in self._enriched_order("enriched_at, body", "", after, limit)]

    def enriched_refs(self, since: str, *, after: tuple[str, str] | None = None,
                      limit: int = 100) -> list[DocumentRef]:
        """Like :meth:`documents_enriched_after` without the bodies, from ``since`` (inclusive)."""
        return [_ref(row) for row in self._enriched_order(_REF, since, after, limit)]

    def _enriched_order(self, columns: str, since: str, after: tuple[str, str] | None, limit: int) -> list[Row]:
        where = "enriched_at IS NOT NULL AND enriched_at >= ?"
        params: list[Any] = [since]
        if after is not None:
            where += " AND (enriched_at > ? OR (enriched_at = ? AND id > ?))"
            params += [after[0], after[0], after[1]]
        return self.read(f"SELECT {columns} FROM documents WHERE {where} ORDER BY enriched_at, id LIMIT ?",
                         [*params, limit])

    def document_refs(self) -> list[DocumentRef]:
        """Every stored document's id, source and dates, in id order (retention reviews them)."""
        return [_ref(row) for row in self.read(f"SELECT {_REF} FROM documents ORDER BY id")]

    def count_documents(self) -> int:
        return int(self.read("SELECT COUNT(*) AS n FROM documents")[0]["n"])

    def stats(self) -> dict[str, Any]:
        """Counts over the store of record: documents by source and language, entities by label,
        methods, countries of geocoded locations, and the outbox states."""

        def grouped(sql: str) -> dict[str, int]:
            return {str(r["k"]): int(r["n"]) for r in self.read(sql)}

        return {
            "documents": self.count_documents(),
            "enriched": self.count_enriched(),
            "by_source": grouped("SELECT source_id AS k, COUNT(*) AS n FROM documents GROUP BY k ORDER BY n DESC"),
            "by_language": grouped(
                "SELECT COALESCE(json_extract(body, '$.language'), 'pending') AS k, COUNT(*) AS n"
                " FROM documents GROUP BY k ORDER BY n DESC"
            ),
            "entities_by_label": grouped(
                "SELECT json_extract(e.value, '$.label') AS k, COUNT(*) AS n"
                " FROM documents, json_each(documents.body, '$.entities') AS e GROUP BY k ORDER BY n DESC"
            ),
            "methods": grouped(
                "SELECT json_extract(m.value, '$.id') AS k, COUNT(*) AS n"
                " FROM documents, json_each(documents.body, '$.methods') AS m GROUP BY k ORDER BY n DESC"
            ),
            "locations_by_country": grouped(
                # Continents and macro-regions ("Asia", "the Balkans") have no country: not counted here.
                "SELECT json_extract(l.value, '$.country_code') AS k, COUNT(*) AS n"
                " FROM documents, json_each(documents.body, '$.locations') AS l"
                " WHERE json_extract(l.value, '$.country_code') IS NOT NULL GROUP BY k ORDER BY n DESC"
            ),
            "documents_with_locations": int(self.read(
                "SELECT COUNT(*) AS n FROM documents WHERE json_array_length(body, '$.locations') > 0"
            )[0]["n"]),
            "outbox": self.outbox_counts(),
        }

    def method_hits(self, *, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """One row per (enriched document, method hit) published (else collected) within the days
        ``first_day``..``last_day`` (ISO dates, inclusive): day, story (near-duplicate cluster),
        source, method id, evidence sentence and the document's country codes."""
        rows = self.read(
            """SELECT day, story, source_id, method, evidence, countries FROM (
                 SELECT substr(COALESCE(json_extract(d.body, '$.published_at'), d.collected_at), 1, 10) AS day,
                        COALESCE(json_extract(d.body, '$.cluster_id'), d.id) AS story, d.source_id,
                        json_extract(m.value, '$.id') AS method, json_extract(m.value, '$.evidence') AS evidence,
                        (SELECT json_group_array(DISTINCT json_extract(l.value, '$.country_code'))
                           FROM json_each(d.body, '$.locations') AS l
                          WHERE json_extract(l.value, '$.country_code') IS NOT NULL) AS countries
                   FROM documents d, json_each(d.body, '$.methods') AS m
                  WHERE d.enriched_at IS NOT NULL) AS hits
               WHERE day >= ? AND day <= ?""",
            (first_day, last_day),
        )
        return [{**dict(r), "countries": json.loads(r["countries"] or "[]")} for r in rows]

    def save_documents(self, docs: Sequence[Document], *, audit_event: dict[str, Any] | None = None) -> None:
        """Replace stored documents with their enriched versions (text is never changed).

        ``audit_event`` (keyword arguments of :func:`osintel.audit.record`) is logged in the same
        transaction, e.g. the ``combination`` event of a re-enrichment.
        """
        now = iso_time(utcnow())
        with self.transaction() as tx:
            if audit_event is not None:
                audit.record(tx, **audit_event)
            for doc in docs:
                tx.execute("UPDATE documents SET body = ?, grading = ?, enriched_at = ? WHERE id = ?",
                           (doc.to_json(), grading_code(doc), now, doc.id))

    def set_grading(self, tx: Transaction, doc_id: str, grading: Grading) -> tuple[Grading | None, Document]:
        """Change a document's grading inside ``tx``; returns the old grading and the updated
        document. Raises NotFoundError (see :func:`osintel.grading.regrade`).

        The row stays locked until ``tx`` commits (the engine's ``row_lock``): a worker storing the
        enriched document at the same moment is waited for, and its enrichment kept."""
        row = tx.fetch_one("SELECT body FROM documents WHERE id = ?" + self._db.row_lock, (doc_id,))
        if row is None:
            raise NotFoundError(f"no document with id {doc_id!r}")
        doc = Document.from_json(row["body"])
        before, doc = doc.grading, doc.model_copy(update={"grading": grading})
        tx.execute("UPDATE documents SET body = ?, grading = ? WHERE id = ?", (doc.to_json(), grading.code, doc_id))
        return before, doc

    def erase_document(self, tx: Transaction, doc_id: str) -> list[Any] | None:
        """Delete a document and its rows in :data:`osintel.schema.ERASED_WITH_DOCUMENT` inside ``tx``;
        returns its ``capture`` and ``extra.previous_captures`` (parsed), or None if there is none."""
        row = tx.fetch_one("SELECT json_extract(body, '$.capture') AS capture,"
                           " json_extract(body, '$.extra.previous_captures') AS previous FROM documents WHERE id = ?",
                           (doc_id,))
        if row is None:
            return None
        for table in (*schema.ERASED_WITH_DOCUMENT, "documents"):
            tx.execute(f"DELETE FROM {table} WHERE {'id' if table == 'documents' else 'doc_id'} = ?",  # noqa: S608
                       (doc_id,))
        return [json.loads(v) if v else None for v in (row["capture"], row["previous"])]

    # -- near-duplicate fingerprints ----------------------------------------------------------

    def add_minhash(self, rows: Sequence[Any]) -> None:
        """Save near-duplicate fingerprints (objects with ``doc_id``, ``cluster_id``,
        ``signature``, ``facts``, ``scheme``); a document id already saved keeps its first row."""
        now = iso_time(utcnow())
        with self.transaction() as tx:
            tx.executemany(
                "INSERT OR IGNORE INTO minhash(doc_id, cluster_id, signature, facts, scheme, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(r.doc_id, r.cluster_id, bytes(r.signature), bytes(r.facts), r.scheme, now) for r in rows],
            )

    def minhash_since(self, seq: int, *, limit: int = 5000) -> list[MinHashRow]:
        """Fingerprints saved after ``seq``, oldest first (load them in pages at start-up)."""
        rows = self.read(
            "SELECT seq, doc_id, cluster_id, signature, facts, scheme FROM minhash WHERE seq > ?"
            " ORDER BY seq LIMIT ?", (seq, limit),
        )
        return [MinHashRow(int(r["seq"]), r["doc_id"], r["cluster_id"], bytes(r["signature"]),
                           bytes(r["facts"]), r["scheme"]) for r in rows]

    # -- crawl runs ---------------------------------------------------------------------------

    def start_run(self, source_id: str, *, owner: dict[str, Any]) -> int:
        """A new ``running`` row owned by ``owner`` (``procs.current().to_dict()``; a child is added
        with :func:`osintel.service.recovery.add_run_owner`), logged as ``crawl.start``."""
        owners = json.dumps([owner])
        with self.transaction() as tx:
            run_id = tx.insert("INSERT INTO crawl_runs(source_id, started_at, owners) VALUES (?, ?, ?)",
                               (source_id, iso_time(utcnow()), owners))
            audit.record(tx, actor="system:collector", action="collection",
                         detail={"kind": "crawl.start", "run_id": run_id, "source": source_id})
            return run_id

    def finish_run(self, run_id: int, *, status: str, stats: dict[str, Any], error: str | None = None) -> None:
        with self.transaction() as tx:
            tx.execute(
                "UPDATE crawl_runs SET finished_at = ?, status = ?, stats = ?, error = ? WHERE id = ?",
                (iso_time(utcnow()), status, json.dumps(stats, default=str, sort_keys=True), error, run_id),
            )
            audit.record(tx, actor="system:collector", action="collection", detail={
                "kind": "crawl.finish", "run_id": run_id, "status": status, "error": error,
                "counts": {k: v for k, v in stats.items() if isinstance(v, (int, float))},
            })

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """One crawl run with its stats, or None."""
        rows = self.read("SELECT * FROM crawl_runs WHERE id = ?", (run_id,))
        return _run(rows[0]) if rows else None

    def runs(self, *, source_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Crawl runs with their stats, newest first."""
        sql = "SELECT * FROM crawl_runs"
        params: list[Any] = []
        if source_id:
            sql += " WHERE source_id = ?"
            params.append(source_id)
        return [_run(row) for row in self.read(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])]


def _insert_document(tx: Transaction, doc: Document, content_sha256: str, *, if_new: bool = False) -> bool:
    """Insert ``doc``; with ``if_new``, an id already stored (or being stored by a concurrent
    transaction, which this waits for) is skipped and False returned instead of an error."""
    conflict = " ON CONFLICT DO NOTHING" if if_new else ""
    return bool(tx.execute(
        "INSERT INTO documents(id, source_id, canonical_url, content_sha256, collected_at, grading, body)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)" + conflict,
        (doc.id, doc.source.id, doc.canonical_url, content_sha256, iso_time(doc.collected_at), grading_code(doc), doc.to_json()),
    ))


def _replace_capture(tx: Transaction, doc: Document, content_sha256: str, *, lock: str) -> None:
    """Replace the stored document ``doc.id`` by the fresh capture ``doc`` (see
    :meth:`ControlStore.recapture_document`), keeping its source, grading and earlier captures.

    ``lock`` (the engine's ``row_lock``) keeps the row until COMMIT: two captures replacing one
    document at once each list the other's capture, never drop it."""
    row = tx.fetch_one("SELECT body FROM documents WHERE id = ?" + lock, (doc.id,))
    if row is None:  # erased between the insert and now: nothing to keep
        raise StoreError(f"document {doc.id!r} was erased while a new capture of it was being stored")
    old = Document.from_json(row["body"])
    previous = list(old.extra.get("previous_captures", []))
    if old.capture is not None:
        previous.append({**old.capture.model_dump(mode="json"), "collected_at": old.collected_at.isoformat()})
    doc = doc.model_copy(update={
        "source": old.source, "grading": old.grading, "extra": {**doc.extra, "previous_captures": previous},
    })
    tx.execute(
        "UPDATE documents SET body = ?, grading = ?, content_sha256 = ?, collected_at = ?,"
        " enriched_at = NULL WHERE id = ?",
        (doc.to_json(), grading_code(doc), content_sha256, iso_time(doc.collected_at), doc.id),
    )


def _record_seen(tx: Transaction, urls: Sequence[str], *, source_id: str, doc_id: str | None,
                 content_sha256: str | None) -> None:
    now = iso_time(utcnow())
    tx.executemany(
        """INSERT INTO seen_urls(url, source_id, doc_id, content_sha256, first_seen, last_seen)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(url) DO UPDATE SET last_seen = excluded.last_seen,
             doc_id = COALESCE(excluded.doc_id, seen_urls.doc_id),
             content_sha256 = COALESCE(excluded.content_sha256, seen_urls.content_sha256)""",
        # In sorted order: writers on PostgreSQL lock the rows in one order, so they never deadlock.
        [(url, source_id, doc_id, content_sha256, now, now) for url in sorted(set(urls))],
    )
