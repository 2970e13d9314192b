"""The control store's tables: the numbered migrations that create them, and the unit-of-work
interface (:class:`Database`, :class:`Transaction`) through which each table's owner uses them.

The one way tables come into being: :class:`osintel.store.ControlStore` applies the migrations above
``meta.schema_version`` on open, in one transaction, and records the new version. A schema change is
a new :class:`Migration` at the end of :data:`MIGRATIONS`. Releases before this list recorded
versions 1 and 2 without creating every table through it, so a store at :data:`LEGACY_VERSION` or
below replays it from the start (migrations 1 to 3 are idempotent for that). Only a table's owner
names it in SQL (the table -> owner map and its test: ``tests/test_store_boundaries.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, NamedTuple, Protocol

#: A result row: columns by name (``row["id"]``) and by position (``row[0]``).
Row = Any


class Transaction(Protocol):
    """An open write transaction; used after its ``with`` block it raises StoreError."""

    @property
    def open(self) -> bool: ...
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...  # rows changed
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int: ...
    def insert(self, sql: str, params: Sequence[Any] = ()) -> int: ...  # the new row's id
    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...
    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def serialise(self, key: int) -> None: ...  # one such transaction at a time, until it ends


class Database(Protocol):
    """What a table's owner uses of the store: write transactions (``BEGIN`` … ``COMMIT``, rolled
    back if the block raises) and single queries."""

    def transaction(self) -> AbstractContextManager[Transaction]: ...
    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class AddColumn(NamedTuple):
    """Add ``column`` to ``table`` unless it is there already."""

    table: str
    column: str
    declaration: str


class Migration(NamedTuple):
    """One schema step: SQL statements (one per string) and :class:`AddColumn` steps, in order."""

    version: int
    name: str
    steps: tuple[str | AddColumn, ...]


#: Tables whose rows (by ``doc_id``) go with their document when retention erases it. Alert
#: messages stay: one already delivered records a disclosure that happened.
ERASED_WITH_DOCUMENT = ("outbox", "content_hashes", "minhash", "seen_urls", "retention_holds", "alert_evaluated",
                        "alert_events", "dead_letters")

_BASE = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, source_id TEXT NOT NULL,"
    " canonical_url TEXT NOT NULL, content_sha256 TEXT, collected_at TEXT NOT NULL, enriched_at TEXT,"
    " body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS documents_source ON documents(source_id)",
    # The order standing feeds (TAXII) serve documents in.
    "CREATE INDEX IF NOT EXISTS documents_enriched ON documents(enriched_at, id)",
    "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0, leased_until TEXT, created_at TEXT NOT NULL,"
    " updated_at TEXT NOT NULL, last_error TEXT)",
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(state, seq)",
    "CREATE TABLE IF NOT EXISTS crawl_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, source_id TEXT NOT NULL,"
    " started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL DEFAULT 'running',"
    " stats TEXT NOT NULL DEFAULT '{}', error TEXT)",
    "CREATE INDEX IF NOT EXISTS crawl_runs_source ON crawl_runs(source_id, id)",
    "CREATE TABLE IF NOT EXISTS seen_urls (url TEXT PRIMARY KEY, source_id TEXT NOT NULL, doc_id TEXT,"
    " content_sha256 TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cursors (source_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " updated_at TEXT NOT NULL, PRIMARY KEY (source_id, key))",
    "CREATE TABLE IF NOT EXISTS content_hashes (sha256 TEXT PRIMARY KEY, doc_id TEXT NOT NULL,"
    " first_seen TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS minhash (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL UNIQUE,"
    " cluster_id TEXT NOT NULL, signature BLOB NOT NULL, facts BLOB NOT NULL, scheme TEXT NOT NULL,"
    " created_at TEXT NOT NULL)",
    # The oversight record (osintel.audit): append-only, enforced by the database.
    "CREATE TABLE IF NOT EXISTS audit_log (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, detail TEXT NOT NULL, purpose TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
    " secret_sha256 TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)",
    "CREATE TABLE IF NOT EXISTS ui_sessions (token_sha256 TEXT PRIMARY KEY, key_id TEXT NOT NULL,"
    " created_at TEXT NOT NULL, expires_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS retention_holds (doc_id TEXT PRIMARY KEY, reason TEXT NOT NULL,"
    " set_by TEXT NOT NULL, set_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS erased_captures (warc_file TEXT NOT NULL, record_id TEXT NOT NULL,"
    " doc_id TEXT NOT NULL, erased_at TEXT NOT NULL, audit_seq INTEGER NOT NULL,"
    " PRIMARY KEY (warc_file, record_id))",
)

_OWNERS = (
    AddColumn("outbox", "lease_owner", "TEXT"),  # ProcessIdentity.token of the lease holder
    AddColumn("crawl_runs", "owners", "TEXT"),  # JSON list of the processes running the crawl
    "CREATE TABLE IF NOT EXISTS sealed_warcs (file TEXT PRIMARY KEY, run_id INTEGER, sealed_at TEXT NOT NULL,"
    " size INTEGER NOT NULL, sha256 TEXT NOT NULL, complete_bytes INTEGER NOT NULL, reason TEXT NOT NULL)",
)

# Tables the dead-letter and alert modules used to create on first use.
_ADOPTED = (
    "CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL,"
    " stage TEXT NOT NULL, reason TEXT NOT NULL, outbox_seq INTEGER, created_at TEXT NOT NULL,"
    " requeued_at TEXT)",
    "CREATE INDEX IF NOT EXISTS dead_letters_open ON dead_letters(requeued_at, id)",
    "CREATE TABLE IF NOT EXISTS alert_rules (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,"
    " owner_id TEXT, owner_name TEXT, spec TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
    " created_at TEXT NOT NULL, active_since TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS alert_marks (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS alert_evaluated (doc_id TEXT NOT NULL, enriched_at TEXT NOT NULL,"
    " PRIMARY KEY (doc_id, enriched_at))",
    "CREATE TABLE IF NOT EXISTS alert_events (id INTEGER PRIMARY KEY AUTOINCREMENT, rule_id TEXT NOT NULL,"
    " doc_id TEXT NOT NULL, story TEXT NOT NULL, kind TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'duplicate', 'dead', 'cancelled')),"
    " detail TEXT NOT NULL, message_id INTEGER, created_at TEXT NOT NULL, UNIQUE (rule_id, doc_id))",
    "CREATE INDEX IF NOT EXISTS alert_events_story ON alert_events(rule_id, story)",
    "CREATE INDEX IF NOT EXISTS alert_events_queue ON alert_events(status, message_id)",
    "CREATE TABLE IF NOT EXISTS alert_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, rule_id TEXT NOT NULL,"
    " sink TEXT NOT NULL, target TEXT NOT NULL, payload TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL, last_error TEXT,"
    " created_at TEXT NOT NULL, sent_at TEXT)",
    "CREATE INDEX IF NOT EXISTS alert_messages_due ON alert_messages(state, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS alert_messages_rule ON alert_messages(rule_id, created_at)",
    # The alert sweep reads documents by the time they were indexed.
    "CREATE INDEX IF NOT EXISTS documents_enriched_at ON documents(enriched_at)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "documents, outbox, runs, incremental crawling, fingerprints, audit, keys, retention", _BASE),
    Migration(2, "lease and crawl-run owners, sealed WARC files", _OWNERS),
    Migration(3, "dead letters and alert state", _ADOPTED),
    Migration(4, "documents.grading: the grading code, so the outbox ack compares it without parsing the body", (
        AddColumn("documents", "grading", "TEXT"),
        "UPDATE documents SET grading = json_extract(body, '$.grading.source')"
        " || json_extract(body, '$.grading.intelligence') || json_extract(body, '$.grading.handling')",
    )),
)

#: The version a store is at once every migration has been applied.
SCHEMA_VERSION = MIGRATIONS[-1].version
#: The highest version recorded by releases before :data:`MIGRATIONS` existed.
LEGACY_VERSION = 2
