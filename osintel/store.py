"""The control store: SQLite in WAL mode, the store of record.

It holds the documents themselves, the outbox between collection and enrichment/indexing, crawl
runs with their stats, and the seen-URL and content-hash tables that make crawling incremental.
Evidence-grade writes use ``synchronous=FULL``. Its tables, and those of the modules that keep
their state beside the documents, are created by the migrations of :mod:`osintel.schema`.

Several processes use one store (a crawl child process writes documents while the enrichment
worker drains the outbox), so every connection sets a busy timeout; inside one process a lock
keeps a single writer.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from osintel import audit, schema
from osintel.service import procs
from osintel.errors import StoreError
from osintel.records import Document, utcnow

log = logging.getLogger(__name__)

SCHEMA_VERSION = schema.SCHEMA_VERSION


@dataclass(frozen=True)
class OutboxItem:
    """A leased outbox row and the document it refers to."""

    seq: int
    document: Document
    attempts: int


@dataclass(frozen=True)
class MinHashRow:
    """A saved near-duplicate fingerprint (see :mod:`nlp.dedup`): no text, only hashes."""

    seq: int
    doc_id: str
    cluster_id: str
    signature: bytes
    facts: bytes
    scheme: str


def _iso(value: datetime) -> str:
    return value.isoformat()


class ControlStore:
    """The SQLite control store. Open with ``ControlStore(path)``; close with :meth:`close`.

    Opening applies the migrations the store lacks (:mod:`osintel.schema`); a store written by a
    newer release is refused rather than written with an older schema.
    """

    def __init__(self, path: str | Path, *, max_attempts: int = 5) -> None:
        self.path = Path(path)
        self.max_attempts = max_attempts
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open control store {self.path}: {exc}") from exc
        try:
            self._migrate()
        except StoreError:
            self._db.close()
            raise

    # -- plumbing -----------------------------------------------------------------------------

    def _tx(self) -> _Transaction:
        return _Transaction(self)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ControlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"control store query failed: {exc}") from exc

    def schema_version(self) -> int:
        """The last migration applied to the store (0: none yet)."""
        if not self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"):
            return 0
        rows = self._query("SELECT value FROM meta WHERE key = 'schema_version'")
        try:
            return int(rows[0]["value"]) if rows else 0
        except ValueError:
            raise StoreError(f"control store {self.path}: unreadable schema version {rows[0]['value']!r}") from None

    def _migrate(self) -> None:
        if self.schema_version() == SCHEMA_VERSION:
            return
        with self._tx() as db:
            current = self.schema_version()  # again under the write lock: another process may have migrated
            if current > SCHEMA_VERSION:
                raise StoreError(f"control store {self.path} has schema version {current}, newer than this"
                                 f" release knows ({SCHEMA_VERSION}): upgrade osintel to open it")
            if current <= schema.LEGACY_VERSION:
                current = 0  # tables made outside the list: replay its idempotent start
            for migration in schema.MIGRATIONS:
                if migration.version > current:
                    log.info("control store %s: migration %d (%s)", self.path, migration.version, migration.name)
                    for step in migration.steps:
                        if isinstance(step, schema.AddColumn):
                            _add_column(db, step)
                        else:
                            db.execute(step)
            db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))

    # -- incremental crawling -----------------------------------------------------------------

    def is_seen_url(self, url: str) -> bool:
        """True when ``url`` (canonical form) has been fetched and recorded before."""
        return bool(self._query("SELECT 1 FROM seen_urls WHERE url = ?", (url,)))

    def seen_urls(self, source_id: str | None = None) -> set[str]:
        """URLs recorded for one source, or for all sources when ``source_id`` is None.

        Loaded once per crawl so lookups stay in memory.
        """
        if source_id is None:
            return {r["url"] for r in self._query("SELECT url FROM seen_urls")}
        return {r["url"] for r in self._query("SELECT url FROM seen_urls WHERE source_id = ?", (source_id,))}

    def mark_seen(self, url: str, *, source_id: str, doc_id: str | None = None,
                  content_sha256: str | None = None) -> None:
        """Record that ``url`` was fetched (whether or not it produced a document)."""
        with self._tx() as db:
            _record_seen(db, [url], source_id=source_id, doc_id=doc_id, content_sha256=content_sha256)

    def get_cursor(self, source_id: str, key: str) -> str | None:
        """A paging high-water mark kept between crawls (e.g. the newest post id of a timeline)."""
        rows = self._query("SELECT value FROM cursors WHERE source_id = ? AND key = ?", (source_id, key))
        return str(rows[0]["value"]) if rows else None

    def set_cursor(self, source_id: str, key: str, value: str) -> None:
        """Store a high-water mark; call only once everything up to it has been stored."""
        with self._tx() as db:
            db.execute(
                """INSERT INTO cursors(source_id, key, value, updated_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT(source_id, key) DO UPDATE SET value = excluded.value,
                     updated_at = excluded.updated_at""",
                (source_id, key, value, _iso(utcnow())),
            )

    # -- documents ----------------------------------------------------------------------------

    def add_collected(self, doc: Document, *, content_sha256: str, seen: Sequence[str] = ()) -> bool:
        """Store a newly collected document and queue it for enrichment, atomically.

        Returns False (and stores no document) when the document id or the same content is already
        held: a re-crawl or a copy under another URL never adds a duplicate. ``seen`` URLs are
        marked seen in the same transaction either way, so a crash can never leave a URL marked
        seen without its document, nor a stored document whose URL would be fetched again.
        """
        now = _iso(utcnow())
        with self._tx() as db:
            _record_seen(db, seen, source_id=doc.source.id, doc_id=doc.id, content_sha256=content_sha256)
            if db.execute("SELECT 1 FROM documents WHERE id = ?", (doc.id,)).fetchone():
                return False
            if db.execute("SELECT 1 FROM content_hashes WHERE sha256 = ?", (content_sha256,)).fetchone():
                return False
            db.execute(
                "INSERT INTO documents(id, source_id, canonical_url, content_sha256, collected_at, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (doc.id, doc.source.id, doc.canonical_url, content_sha256, _iso(doc.collected_at), doc.to_json()),
            )
            db.execute(
                "INSERT INTO content_hashes(sha256, doc_id, first_seen) VALUES (?, ?, ?)",
                (content_sha256, doc.id, now),
            )
            db.execute(
                "INSERT INTO outbox(doc_id, created_at, updated_at) VALUES (?, ?, ?)", (doc.id, now, now)
            )
        return True

    def recapture_document(self, doc: Document, *, content_sha256: str, seen: Sequence[str] = ()) -> bool:
        """Store a fresh capture of a URL (an analyst's ``osintel capture``), replacing any
        stored document with the same id, and queue it for enrichment; True when it is new.

        A replaced document keeps its source and grading (an analyst's regrade survives) and
        lists its earlier captures under ``extra["previous_captures"]``: the WARC records they
        point to stay on disk untouched.
        """
        now = _iso(utcnow())
        with self._tx() as db:
            _record_seen(db, seen, source_id=doc.source.id, doc_id=doc.id, content_sha256=content_sha256)
            row = db.execute("SELECT body FROM documents WHERE id = ?", (doc.id,)).fetchone()
            if row is not None:
                old = Document.from_json(row["body"])
                previous = list(old.extra.get("previous_captures", []))
                if old.capture is not None:
                    previous.append({**old.capture.model_dump(mode="json"),
                                     "collected_at": old.collected_at.isoformat()})
                doc = doc.model_copy(update={
                    "source": old.source, "grading": old.grading,
                    "extra": {**doc.extra, "previous_captures": previous},
                })
                db.execute(
                    "UPDATE documents SET body = ?, content_sha256 = ?, collected_at = ?, enriched_at = NULL"
                    " WHERE id = ?", (doc.to_json(), content_sha256, _iso(doc.collected_at), doc.id),
                )
            else:
                db.execute(
                    "INSERT INTO documents(id, source_id, canonical_url, content_sha256, collected_at, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (doc.id, doc.source.id, doc.canonical_url, content_sha256, _iso(doc.collected_at),
                     doc.to_json()),
                )
            db.execute(
                "INSERT OR IGNORE INTO content_hashes(sha256, doc_id, first_seen) VALUES (?, ?, ?)",
                (content_sha256, doc.id, now),
            )
            db.execute(
                "INSERT INTO outbox(doc_id, created_at, updated_at) VALUES (?, ?, ?)", (doc.id, now, now)
            )
        return row is None

    def get_document(self, doc_id: str) -> Document | None:
        rows = self._query("SELECT body FROM documents WHERE id = ?", (doc_id,))
        return Document.from_json(rows[0]["body"]) if rows else None

    def iter_documents(self, *, batch_size: int = 500) -> Iterator[Document]:
        """Every stored document, in id order, read in batches."""
        last = ""
        while True:
            rows = self._query(
                "SELECT id, body FROM documents WHERE id > ? ORDER BY id LIMIT ?", (last, batch_size)
            )
            if not rows:
                return
            for row in rows:
                yield Document.from_json(row["body"])
            last = rows[-1]["id"]

    def documents_enriched_after(
        self, after: tuple[str, str] | None = None, *, limit: int = 100
    ) -> list[tuple[str, Document]]:
        """Enriched documents in the order they were (last) enriched, as ``(enriched_at, doc)``.

        ``after`` is the ``(enriched_at, id)`` position to continue from (exclusive); this is the
        order a standing feed (TAXII) serves, so a reader never misses a document.
        """
        if after is None:
            rows = self._query(
                "SELECT enriched_at, body FROM documents WHERE enriched_at IS NOT NULL"
                " ORDER BY enriched_at, id LIMIT ?", (limit,),
            )
        else:
            rows = self._query(
                "SELECT enriched_at, body FROM documents WHERE enriched_at IS NOT NULL"
                " AND (enriched_at > ? OR (enriched_at = ? AND id > ?)) ORDER BY enriched_at, id LIMIT ?",
                (after[0], after[0], after[1], limit),
            )
        return [(row["enriched_at"], Document.from_json(row["body"])) for row in rows]

    def count_documents(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM documents")[0]["n"])

    def stats(self) -> dict[str, Any]:
        """Counts over the store of record: documents by source and language, entities by label,
        methods, countries of geocoded locations, and the outbox states."""

        def grouped(sql: str) -> dict[str, int]:
            return {str(r["k"]): int(r["n"]) for r in self._query(sql)}

        return {
            "documents": self.count_documents(),
            "enriched": int(self._query("SELECT COUNT(*) AS n FROM documents WHERE enriched_at IS NOT NULL")[0]["n"]),
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
            "documents_with_locations": int(self._query(
                "SELECT COUNT(*) AS n FROM documents WHERE json_array_length(body, '$.locations') > 0"
            )[0]["n"]),
            "outbox": self.outbox_counts(),
        }

    def save_documents(self, docs: Sequence[Document], *, audit_event: dict[str, Any] | None = None) -> None:
        """Replace stored documents with their enriched versions (text is never changed).

        ``audit_event`` (keyword arguments of :func:`osintel.audit.record`) is logged in the same
        transaction, e.g. the ``combination`` event of a re-enrichment.
        """
        now = _iso(utcnow())
        with self._tx() as db:
            if audit_event is not None:
                audit.record(db, **audit_event)
            for doc in docs:
                db.execute(
                    "UPDATE documents SET body = ?, enriched_at = ? WHERE id = ?", (doc.to_json(), now, doc.id)
                )

    # -- outbox -------------------------------------------------------------------------------

    def lease(self, limit: int, *, lease_seconds: float = 300.0) -> list[OutboxItem]:
        """Lease up to ``limit`` pending rows for processing, in this process's name.

        A lease that is not acked before it expires (the worker died) makes the row available
        again, so nothing is lost; processing must therefore be idempotent. The holder is recorded
        (:mod:`osintel.service.procs`), so a dead holder's leases can be released at once
        (:mod:`osintel.service.leases`) and :meth:`ack` / :meth:`release` only touch rows still held by
        this process (or by no one).
        """
        now = utcnow()
        owner = procs.current().token
        until = _iso(now + timedelta(seconds=lease_seconds))
        with self._tx() as db:
            rows = db.execute(
                """SELECT o.seq, o.attempts, d.body FROM outbox o JOIN documents d ON d.id = o.doc_id
                   WHERE o.state = 'pending' AND (o.leased_until IS NULL OR o.leased_until < ?)
                   ORDER BY o.seq LIMIT ?""",
                (_iso(now), limit),
            ).fetchall()
            db.executemany(
                "UPDATE outbox SET leased_until = ?, lease_owner = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE seq = ?",
                [(until, owner, _iso(now), r["seq"]) for r in rows],
            )
        return [OutboxItem(r["seq"], Document.from_json(r["body"]), r["attempts"] + 1) for r in rows]

    def ack(self, seqs: Sequence[int], documents: Sequence[Document] = ()) -> None:
        """Mark rows done and store their enriched documents, in one transaction.

        Call only after the search index has acknowledged the documents. A row whose lease an
        operator has since handed to another process is left to that process.
        """
        now = _iso(utcnow())
        owner = procs.current().token
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state = 'done', leased_until = NULL, lease_owner = NULL, updated_at = ?"
                " WHERE seq = ? AND (lease_owner IS NULL OR lease_owner = ?)",
                [(now, s, owner) for s in seqs],
            )
            for doc in documents:
                doc = _keep_regrade(db, doc, now)
                db.execute(
                    "UPDATE documents SET body = ?, enriched_at = ? WHERE id = ?", (doc.to_json(), now, doc.id)
                )

    def release(self, seqs: Sequence[int], error: str, *, count_attempt: bool = True) -> None:
        """Give leased rows back after a failure; rows past ``max_attempts`` become 'failed'.

        ``count_attempt=False`` is for system-wide faults (the index is down): the documents are
        not to blame, so the lease does not count against them and an outage of any length
        never parks them as failed.
        """
        now = _iso(utcnow())
        refund = 0 if count_attempt else 1
        owner = procs.current().token
        with self._tx() as db:
            db.executemany(
                """UPDATE outbox SET leased_until = NULL, lease_owner = NULL, last_error = ?, updated_at = ?,
                     attempts = attempts - ?,
                     state = CASE WHEN attempts - ? >= ? THEN 'failed' ELSE 'pending' END
                   WHERE seq = ? AND (lease_owner IS NULL OR lease_owner = ?)""",
                [(error[:2000], now, refund, refund, self.max_attempts, s, owner) for s in seqs],
            )

    def outbox_counts(self) -> dict[str, int]:
        counts = {"pending": 0, "done": 0, "failed": 0}
        for row in self._query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state"):
            counts[row["state"]] = int(row["n"])
        return counts

    # -- near-duplicate fingerprints ----------------------------------------------------------

    def add_minhash(self, rows: Sequence[Any]) -> None:
        """Save near-duplicate fingerprints (objects with ``doc_id``, ``cluster_id``,
        ``signature``, ``facts``, ``scheme``); a document id already saved keeps its first row."""
        now = _iso(utcnow())
        with self._tx() as db:
            db.executemany(
                "INSERT OR IGNORE INTO minhash(doc_id, cluster_id, signature, facts, scheme, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(r.doc_id, r.cluster_id, bytes(r.signature), bytes(r.facts), r.scheme, now) for r in rows],
            )

    def minhash_since(self, seq: int, *, limit: int = 5000) -> list[MinHashRow]:
        """Fingerprints saved after ``seq``, oldest first (load them in pages at start-up)."""
        rows = self._query(
            "SELECT seq, doc_id, cluster_id, signature, facts, scheme FROM minhash WHERE seq > ?"
            " ORDER BY seq LIMIT ?", (seq, limit),
        )
        return [MinHashRow(int(r["seq"]), r["doc_id"], r["cluster_id"], bytes(r["signature"]),
                           bytes(r["facts"]), r["scheme"]) for r in rows]

    # -- crawl runs ---------------------------------------------------------------------------

    def start_run(self, source_id: str) -> int:
        """A new ``running`` row owned by this process (a child is added with
        :func:`osintel.service.recovery.add_run_owner`), logged as ``crawl.start``."""
        owners = json.dumps([procs.current().to_dict()])
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO crawl_runs(source_id, started_at, owners) VALUES (?, ?, ?)",
                (source_id, _iso(utcnow()), owners),
            )
            run_id = int(cur.lastrowid or 0)
            audit.record(db, actor="system:collector", action="collection",
                         detail={"kind": "crawl.start", "run_id": run_id, "source": source_id})
            return run_id

    def finish_run(self, run_id: int, *, status: str, stats: dict[str, Any], error: str | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE crawl_runs SET finished_at = ?, status = ?, stats = ?, error = ? WHERE id = ?",
                (_iso(utcnow()), status, json.dumps(stats, default=str, sort_keys=True), error, run_id),
            )
            audit.record(db, actor="system:collector", action="collection", detail={
                "kind": "crawl.finish", "run_id": run_id, "status": status, "error": error,
                "counts": {k: v for k, v in stats.items() if isinstance(v, (int, float))},
            })

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """One crawl run with its stats, or None."""
        rows = self._query("SELECT * FROM crawl_runs WHERE id = ?", (run_id,))
        if not rows:
            return None
        item = dict(rows[0])
        item["stats"] = json.loads(item["stats"] or "{}")
        return item

    def runs(self, *, source_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = "SELECT * FROM crawl_runs"
        params: list[Any] = []
        if source_id:
            sql += " WHERE source_id = ?"
            params.append(source_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        out = []
        for row in self._query(sql, params):
            item = dict(row)
            item["stats"] = json.loads(item["stats"] or "{}")
            out.append(item)
        return out


def _record_seen(db: sqlite3.Connection, urls: Sequence[str], *, source_id: str, doc_id: str | None,
                 content_sha256: str | None) -> None:
    now = _iso(utcnow())
    db.executemany(
        """INSERT INTO seen_urls(url, source_id, doc_id, content_sha256, first_seen, last_seen)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(url) DO UPDATE SET last_seen = excluded.last_seen,
             doc_id = COALESCE(excluded.doc_id, seen_urls.doc_id),
             content_sha256 = COALESCE(excluded.content_sha256, seen_urls.content_sha256)""",
        [(url, source_id, doc_id, content_sha256, now, now) for url in dict.fromkeys(urls)],
    )


def _add_column(db: sqlite3.Connection, step: schema.AddColumn) -> None:
    """``ALTER TABLE … ADD COLUMN`` unless a store from before the migration list has it already."""
    if step.column not in {row[1] for row in db.execute(f"PRAGMA table_info({step.table})")}:
        db.execute(f"ALTER TABLE {step.table} ADD COLUMN {step.column} {step.declaration}")


def _keep_regrade(db: sqlite3.Connection, doc: Document, now: str) -> Document:
    """An analyst's regrade made while the worker held ``doc`` wins over the worker's copy.

    The grading is the analyst's, never the NLP stage's. When it changed after the lease, the
    stored grading is kept and the document goes back into the outbox, so the index (and the
    relevance score, which depends on the grading) catch up on the next drain.
    """
    row = db.execute("SELECT body FROM documents WHERE id = ?", (doc.id,)).fetchone()
    if row is None:
        return doc
    stored = Document.from_json(row["body"]).grading
    if stored == doc.grading:
        return doc
    db.execute("INSERT INTO outbox(doc_id, created_at, updated_at) VALUES (?, ?, ?)", (doc.id, now, now))
    return doc.model_copy(update={"grading": stored})


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` under the store's lock; rolls back on error."""

    def __init__(self, store: ControlStore) -> None:
        self._store = store

    def __enter__(self) -> sqlite3.Connection:
        self._store._lock.acquire()
        try:
            self._store._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._store._lock.release()
            raise StoreError(f"cannot write to control store {self._store.path}: {exc}") from exc
        return self._store._db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._store._db.execute("COMMIT")
            else:
                self._store._db.execute("ROLLBACK")
        except sqlite3.Error as err:
            raise StoreError(f"control store transaction failed: {err}") from err
        finally:
            self._store._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"control store write failed: {exc}") from exc
