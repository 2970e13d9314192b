"""Every table of the control store: the numbered migrations that create them, and their owners.

This is the one way tables come into being. :class:`osintel.store.ControlStore` applies the
migrations above the store's ``meta.schema_version`` when it opens it, in one transaction, and
records the new version there. A change to the schema is a new :class:`Migration` at the end of
:data:`MIGRATIONS`; released migrations are never edited.

Versions 1 and 2 were recorded by releases that created tables outside this list (and did not bump
the version each time), so a store at version :data:`LEGACY_VERSION` or below replays the list from
the start: migrations 1 to 3 are idempotent (``IF NOT EXISTS``, :class:`AddColumn`) for that reason.

:data:`TABLES` names the module that owns each table. Only the owner writes SQL that names it; any
other module calls the owner's functions or the store's named methods
(``tests/test_store_boundaries.py`` enforces it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AddColumn:
    """Add ``column`` to ``table`` unless it is there already."""

    table: str
    column: str
    declaration: str


@dataclass(frozen=True)
class Migration:
    """One schema step: SQL statements (one per string) and :class:`AddColumn` steps, in order."""

    version: int
    name: str
    steps: tuple[str | AddColumn, ...]


@dataclass(frozen=True)
class Table:
    """Who owns a table (a module name), and whether its rows go when their document is erased."""

    owner: str
    erased_with_document: bool = False


STORE, AUDIT, KEYS = "osintel.store", "osintel.audit", "osintel.apikeys"
RETENTION, SEALING, DEAD_LETTERS = "osintel.service.retention", "osintel.service.sealing", "osintel.service.deadletter"
ALERTS = "alerts.state"

#: table -> owner. ``erased_with_document`` tables have a ``doc_id`` column (the store's
#: ``documents`` itself is keyed by ``id``); retention's erasure removes those rows with the document.
TABLES: dict[str, Table] = {
    "meta": Table(STORE),
    "documents": Table(STORE),
    "outbox": Table(STORE, erased_with_document=True),
    "crawl_runs": Table(STORE),
    "seen_urls": Table(STORE, erased_with_document=True),
    "cursors": Table(STORE),
    "content_hashes": Table(STORE, erased_with_document=True),
    "minhash": Table(STORE, erased_with_document=True),
    "audit_log": Table(AUDIT),
    "api_keys": Table(KEYS),
    "ui_sessions": Table(KEYS),
    "retention_holds": Table(RETENTION, erased_with_document=True),
    "erased_captures": Table(RETENTION),
    "sealed_warcs": Table(SEALING),
    "dead_letters": Table(DEAD_LETTERS, erased_with_document=True),
    "alert_rules": Table(ALERTS),
    "alert_marks": Table(ALERTS),
    "alert_evaluated": Table(ALERTS, erased_with_document=True),
    # An alert already delivered stays in alert_messages: it records a disclosure that happened.
    "alert_events": Table(ALERTS, erased_with_document=True),
    "alert_messages": Table(ALERTS),
}

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
)

#: The version a store is at once every migration has been applied.
SCHEMA_VERSION = MIGRATIONS[-1].version
#: The highest version recorded by releases before :data:`MIGRATIONS` existed.
LEGACY_VERSION = 2
