"""The oversight record: an append-only, hash-chained audit log in the control store.

Modelled on the logging duty of the UK Data Protection Act 2018, s.62: every collection run,
consultation (search, document view, capture download), disclosure (export, feed), alteration
(regrade, retention decision, key management), combination (re-enrichment) and erasure is
recorded with who, when, what and (where given) why.

Each row carries ``prev_hash`` (the previous row's ``hash``) and its own ``hash``, the SHA-256 of
its canonical JSON form, so editing, deleting or re-ordering any row breaks the chain from there
on (:func:`verify`). SQLite triggers raise on ``UPDATE`` and ``DELETE`` of the table, so not even a
bug in this application can edit it; the module has no function that would.

Write an event in the same transaction as the change it records::

    with store.transaction() as tx:
        before, doc = store.set_grading(tx, doc_id, grading)
        audit.record(tx, actor="key:ab12", action="alteration", detail={"kind": "regrade", ...})

or, for events that change nothing else (a search), :func:`log_event` appends it in a transaction
of its own, which it shares with the events other threads are logging at the same moment (a group
commit: one ``COMMIT``, one fsync, for all of them). It returns only once the event is durable, so
an HTTP route that logs before answering never answers for a consultation the record lacks.
Several processes, on several machines, may log into one store: each transaction reads the chain's
head under a lock it holds until it commits (SQLite's write lock; on PostgreSQL an advisory lock,
:data:`CHAIN_LOCK`), so the record stays one chain.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osintel.errors import StoreError
from osintel.records import utcnow

if TYPE_CHECKING:
    from osintel.schema import Database, Row, Transaction

log = logging.getLogger(__name__)

#: The kinds of processing the record distinguishes (DPA 2018 s.62(1)).
ACTIONS: frozenset[str] = frozenset(
    {"collection", "consultation", "disclosure", "alteration", "combination", "erasure"}
)
#: ``prev_hash`` of the first row.
GENESIS = "0" * 64
#: The lock appending transactions hold on the chain's head (:meth:`Transaction.serialise`; any
#: constant distinct from the migrations' lock: "audit" in ASCII, as a number).
CHAIN_LOCK = 0x6175646974


@dataclass(frozen=True)
class AuditEvent:
    """One row of the oversight record."""

    seq: int
    at: str
    actor: str
    action: str
    detail: dict[str, Any]
    purpose: str | None
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
                "detail": self.detail, "purpose": self.purpose, "prev_hash": self.prev_hash,
                "hash": self.hash}


@dataclass(frozen=True)
class VerifyReport:
    """The result of :func:`verify`: ``ok`` and, if not, the first broken row and why."""

    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "first_bad_seq": self.first_bad_seq,
                "problem": self.problem}


def _canonical_detail(detail: dict[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _hash(seq: int, at: str, actor: str, action: str, detail_json: str, purpose: str | None,
          prev_hash: str) -> str:
    # The hash covers every column but itself, in a fixed canonical encoding.
    payload = json.dumps([seq, at, actor, action, detail_json, purpose, prev_hash],
                         separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(tx: Transaction, *, actor: str, action: str, detail: dict[str, Any],
           purpose: str | None = None) -> int:
    """Append one event inside ``tx``, an open write transaction (``with store.transaction() as
    tx:``), so it commits or rolls back with the change it records.

    Returns the event's sequence number. Raises ``ValueError`` for an unknown ``action``.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {sorted(ACTIONS)}")
    if not tx.open:
        # Outside a transaction two writers could read the same tail and fork the chain.
        raise StoreError("audit.record needs an open write transaction (use store.transaction())")
    # Writers on PostgreSQL run side by side: take the chain's head under a lock held to COMMIT, so
    # the next writer reads this row as its predecessor (SQLite's single writer already does this).
    tx.serialise(CHAIN_LOCK)
    row = tx.fetch_one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev = (int(row[0]) + 1, str(row[1])) if row else (1, GENESIS)
    at = utcnow().isoformat()
    detail_json = _canonical_detail(detail)
    purpose = purpose.strip()[:500] if purpose and purpose.strip() else None
    digest = _hash(seq, at, actor, action, detail_json, purpose, prev)
    tx.execute(
        "INSERT INTO audit_log(seq, at, actor, action, detail, purpose, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, actor, action, detail_json, purpose, prev, digest),
    )
    return seq


def cli_actor() -> str:
    """How the record names a person at the command line: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a bare container): still attributable to the host
        return "cli:unknown"


@dataclass(eq=False)
class _Pending:
    """An event waiting for its group's commit: the sequence number it got, or the error."""

    actor: str
    action: str
    detail: dict[str, Any]
    purpose: str | None
    seq: int | None = None
    error: BaseException | None = None
    done: bool = field(default=False)


class GroupCommit:
    """Appends the events that threads log concurrently in one transaction.

    Each caller queues its event and waits for the commit lock. Whoever holds it opens a write
    transaction (waiting there for SQLite's lock while other processes write), takes every event
    queued by then, commits once and marks them done; the callers after it find their event done
    or, if it arrived after that, become the next writer. Nobody returns before the transaction
    holding its event has committed.
    """

    def __init__(self, store: Database) -> None:
        self._store = store
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        #: events per committed group, latest last (the last 1,000; for tests and benchmarks)
        self.group_sizes: list[int] = []

    def pending(self) -> int:
        """Events queued and not yet taken into a transaction."""
        with self._queue_lock:
            return len(self._queue)

    def append(self, *, actor: str, action: str, detail: dict[str, Any], purpose: str | None) -> int:
        if action not in ACTIONS:  # before queueing: one bad event must not fail the others
            raise ValueError(f"unknown audit action {action!r}; expected one of {sorted(ACTIONS)}")
        mine = _Pending(actor, action, detail, purpose)
        with self._queue_lock:
            self._queue.append(mine)
        with self._commit_lock:
            if not mine.done:
                self._commit(mine)  # raises the failure itself when this caller was the writer
        if mine.error is not None:  # another caller's commit of this event failed
            raise StoreError(f"the audit event was not logged: {mine.error}") from mine.error
        assert mine.seq is not None
        return mine.seq

    def _commit(self, mine: _Pending) -> None:
        group: list[_Pending] = []
        try:
            with self._store.transaction() as tx:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                seqs = [record(tx, actor=p.actor, action=p.action, detail=p.detail, purpose=p.purpose)
                        for p in group]
        except BaseException as exc:
            with self._queue_lock:  # not begun: the others stay queued for their own attempt
                self._queue = [p for p in self._queue if p is not mine]
            for pending in group:  # every waiter of the group learns it was not logged
                pending.error, pending.done = exc, True
            raise
        for pending, seq in zip(group, seqs, strict=True):
            pending.seq, pending.done = seq, True
        self.group_sizes = [*self.group_sizes[-999:], len(group)]


_groups: weakref.WeakKeyDictionary[Database, GroupCommit] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def group_commit(store: Database) -> GroupCommit:
    """The :class:`GroupCommit` of ``store`` (one per store object)."""
    with _groups_lock:
        group = _groups.get(store)
        if group is None:
            group = _groups[store] = GroupCommit(store)
        return group


def log_event(store: Database, *, actor: str, action: str, detail: dict[str, Any],
              purpose: str | None = None) -> int:
    """Append one event (for events that change nothing else) and return its sequence number
    once it is durable; events logged at the same time by other threads share its commit."""
    return group_commit(store).append(actor=actor, action=action, detail=detail, purpose=purpose)


def _row_event(row: Row | tuple[Any, ...]) -> AuditEvent:
    seq, at, actor, action, detail, purpose, prev_hash, digest = tuple(row)
    try:
        parsed = json.loads(detail)
    except ValueError:
        parsed = {"unparseable": detail}
    return AuditEvent(int(seq), at, actor, action, parsed, purpose, prev_hash, digest)


_COLUMNS = "seq, at, actor, action, detail, purpose, prev_hash, hash"


def iter_events(store: Database, *, since_seq: int = 0, action: str | None = None,
                batch_size: int = 1000) -> Iterator[AuditEvent]:
    """Events in sequence order after ``since_seq``, optionally of one ``action``, read in batches."""
    last = since_seq
    while True:
        sql = f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ?"
        params: list[Any] = [last]
        if action:
            sql += " AND action = ?"
            params.append(action)
        rows = store.read(sql + " ORDER BY seq LIMIT ?", [*params, batch_size])
        if not rows:
            return
        for row in rows:
            yield _row_event(row)
        last = int(rows[-1]["seq"])


def events(store: Database, *, since_seq: int = 0, action: str | None = None,
           limit: int = 100) -> list[AuditEvent]:
    """Up to ``limit`` events after ``since_seq`` (a page of the record)."""
    out: list[AuditEvent] = []
    for event in iter_events(store, since_seq=since_seq, action=action, batch_size=min(limit, 1000)):
        out.append(event)
        if len(out) >= limit:
            break
    return out


def verify(store: Database) -> VerifyReport:
    """Re-compute the chain; report the first row whose hash, link or sequence is wrong."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    last = 0
    while True:
        rows = store.read(f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1000", (last,))
        if not rows:
            break
        for row in rows:
            seq, at, actor, action, detail, purpose, prev_hash, digest = tuple(row)
            count += 1
            if seq != expected_seq:
                return VerifyReport(False, count, expected_seq, f"row {expected_seq} is missing")
            if prev_hash != prev:
                return VerifyReport(False, count, seq, "prev_hash does not match the previous row's hash")
            if _hash(seq, at, actor, action, detail, purpose, prev_hash) != digest:
                return VerifyReport(False, count, seq, "row content does not match its hash (edited)")
            prev = digest
            expected_seq += 1
        last = int(rows[-1]["seq"])
    return VerifyReport(True, count)


def export(store: Database, output: Path, *, actor: str, purpose: str | None = None) -> int:
    """Write the whole record as JSON lines to ``output`` for an inspector; returns the count.

    The export is itself a disclosure and is logged first, so the file includes its own event.
    """
    log_event(store, actor=actor, action="disclosure",
              detail={"kind": "audit-export", "output": str(output)}, purpose=purpose)
    count = 0
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    with tmp.open("w", encoding="utf-8") as fh:
        for event in iter_events(store):
            fh.write(json.dumps(event.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    tmp.replace(output)
    log.info("exported %s audit events to %s", count, output)
    return count
