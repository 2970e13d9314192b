"""Alert state in the control store: rules, high-water marks, history, digests, dead letters.

The alert stage (``alerts``) keeps everything durable here, in tables of the control
store's SQLite file, so a restart neither repeats nor loses an alert:

- ``alert_rules``: watchlists and emerging-method rules (the rule itself is a JSON ``spec``);
- ``alert_marks``: named high-water marks (the newest ``documents.enriched_at`` evaluated);
- ``alert_evaluated``: documents evaluated inside the look-back overlap of the mark, so a
  document seen twice by two overlapping sweeps is evaluated once;
- ``alert_events``: the alert history, one row per (rule, document) (UNIQUE), with its story
  (near-duplicate cluster) and status ``queued`` → ``sent`` / ``dead``, or ``duplicate`` (a copy
  of a story already alerted by that rule, recorded but never delivered);
- ``alert_messages``: what goes to a sink, one row per message (one event, or a digest of many),
  with attempts and the next attempt time; ``dead`` rows are the dead-letter queue.

The high-water mark is ``documents.enriched_at``, which the outbox ack sets only after the search
index has the document: evaluating documents by when they were *indexed*, not published, is what
makes an old document that arrives late alert like any other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from osintel.errors import NotFoundError
from osintel.records import utcnow
from osintel.schema import Row, Transaction
from osintel.store import ControlStore



def _iso(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class RuleRow:
    """A stored alert rule; ``spec`` is the rule's JSON (query, scope, delivery...)."""

    id: str
    name: str
    kind: str
    owner_id: str | None
    owner_name: str | None
    spec: dict[str, Any]
    enabled: bool
    created_at: str
    active_since: str


@dataclass(frozen=True)
class PendingDoc:
    """A document indexed after the high-water mark and not evaluated yet."""

    doc_id: str
    enriched_at: str
    collected_at: str


@dataclass(frozen=True)
class NewEvent:
    """An alert to record: ``doc_id`` is a document id or a synthetic signal key."""

    rule_id: str
    doc_id: str
    story: str
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class MessageRow:
    """An alert message queued for (or past) delivery."""

    id: int
    rule_id: str
    sink: str
    target: str
    payload: dict[str, Any]
    state: str
    attempts: int
    last_error: str | None


class AlertStore:
    """Alert tables in a :class:`~osintel.store.ControlStore` (created by :mod:`osintel.schema`)."""

    def __init__(self, store: ControlStore) -> None:
        self.store = store

    # -- rules --------------------------------------------------------------------------------

    def add_rule(self, *, rule_id: str, name: str, kind: str, spec: dict[str, Any], owner_id: str | None,
                 owner_name: str | None, enabled: bool = True, if_missing: bool = False) -> bool:
        """Store a rule; it alerts on documents indexed from now on. With ``if_missing``, an
        existing id is left as it is (seeding); otherwise an existing id is replaced. True if
        written."""
        now = _iso(utcnow())
        verb = "INSERT OR IGNORE" if if_missing else "INSERT OR REPLACE"
        with self.store.transaction() as tx:
            written = tx.execute(
                f"{verb} INTO alert_rules(id, name, kind, owner_id, owner_name, spec, enabled, created_at,"
                " active_since, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rule_id, name, kind, owner_id, owner_name, json.dumps(spec, sort_keys=True), int(enabled),
                 now, now, now),
            )
            return written > 0

    def set_enabled(self, rule_id: str, enabled: bool) -> None:
        """Enable or disable a rule; re-enabling does not alert on what was indexed meanwhile."""
        now = _iso(utcnow())
        with self.store.transaction() as tx:
            changed = tx.execute(
                "UPDATE alert_rules SET enabled = ?, updated_at = ?,"
                " active_since = CASE WHEN ? = 1 AND enabled = 0 THEN ? ELSE active_since END WHERE id = ?",
                (int(enabled), now, int(enabled), now, rule_id),
            )
            if changed == 0:
                raise NotFoundError(f"no alert rule {rule_id!r}")

    def remove_rule(self, rule_id: str) -> None:
        """Delete a rule; its history stays, its undelivered alerts are cancelled."""
        with self.store.transaction() as tx:
            if tx.execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,)) == 0:
                raise NotFoundError(f"no alert rule {rule_id!r}")
            tx.execute("UPDATE alert_events SET status = 'cancelled' WHERE rule_id = ? AND status = 'queued'",
                       (rule_id,))
            tx.execute("UPDATE alert_messages SET state = 'dead', last_error = 'rule removed'"
                       " WHERE rule_id = ? AND state = 'pending'", (rule_id,))

    def get_rule(self, rule_id: str) -> RuleRow | None:
        rows = self.store.read("SELECT * FROM alert_rules WHERE id = ?", (rule_id,))
        return _rule(rows[0]) if rows else None

    def rules(self, *, kind: str | None = None, owner_id: str | None = None,
              enabled_only: bool = False) -> list[RuleRow]:
        sql, params = "SELECT * FROM alert_rules WHERE 1=1", []
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        if owner_id is not None:
            sql += " AND owner_id = ?"
            params.append(owner_id)
        if enabled_only:
            sql += " AND enabled = 1"
        return [_rule(r) for r in self.store.read(sql + " ORDER BY created_at, id", params)]

    # -- high-water marks ---------------------------------------------------------------------

    def get_mark(self, name: str) -> str | None:
        rows = self.store.read("SELECT value FROM alert_marks WHERE name = ?", (name,))
        return str(rows[0]["value"]) if rows else None

    def set_mark(self, name: str, value: str) -> None:
        with self.store.transaction() as tx:
            _set_mark(tx, name, value)

    def pending_documents(self, *, since: str, limit: int) -> list[PendingDoc]:
        """Documents indexed at or after ``since`` and not yet evaluated, oldest first."""
        out: list[PendingDoc] = []
        after: tuple[str, str] | None = None
        while len(out) < limit:
            page = self.store.enriched_refs(since, after=after, limit=limit)
            if not page:
                break
            done = {(r["doc_id"], r["enriched_at"]) for r in self.store.read(
                "SELECT doc_id, enriched_at FROM alert_evaluated WHERE enriched_at >= ? AND enriched_at <= ?",
                (page[0].enriched_at, page[-1].enriched_at))}
            out.extend(PendingDoc(ref.id, str(ref.enriched_at), ref.collected_at) for ref in page
                       if (ref.id, ref.enriched_at) not in done)
            if len(page) < limit:
                break
            after = (str(page[-1].enriched_at), page[-1].id)
        return out[:limit]

    def record_evaluation(self, mark: str, docs: Sequence[PendingDoc], events: Sequence[NewEvent], *,
                          prune_before: str) -> list[int]:
        """Record alerts and evaluated documents and advance the mark, in one transaction.

        An event whose (rule, document) is already recorded is ignored; one whose story the rule
        already alerted on is recorded as ``duplicate``. Returns the ids of new ``queued`` events.
        """
        queued: list[int] = []
        with self.store.transaction() as tx:
            for event in events:
                queued_id = _insert_event(tx, event)
                if queued_id is not None:
                    queued.append(queued_id)
            tx.executemany("INSERT OR IGNORE INTO alert_evaluated(doc_id, enriched_at) VALUES (?, ?)",
                           [(d.doc_id, d.enriched_at) for d in docs])
            if docs:
                newest = max(d.enriched_at for d in docs)
                current = tx.fetch_one("SELECT value FROM alert_marks WHERE name = ?", (mark,))
                if current is None or current["value"] < newest:
                    _set_mark(tx, mark, newest)
            tx.execute("DELETE FROM alert_evaluated WHERE enriched_at < ?", (prune_before,))
        return queued

    # -- events -------------------------------------------------------------------------------

    def add_events(self, events: Sequence[NewEvent]) -> list[int]:
        """Record alerts outside a sweep (emerging methods); returns the new ``queued`` ids."""
        with self.store.transaction() as tx:
            return [i for i in (_insert_event(tx, e) for e in events) if i is not None]

    def story_alerted_since(self, rule_id: str, story: str, since: str) -> bool:
        """True when ``rule_id`` recorded an alert for ``story`` at or after ``since``."""
        return bool(self.store.read(
            "SELECT 1 FROM alert_events WHERE rule_id = ? AND story = ? AND created_at >= ? LIMIT 1",
            (rule_id, story, since)))

    def history(self, *, rule_ids: Sequence[str] | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Recent alert events, newest first (optionally of some rules only)."""
        sql, params = "SELECT * FROM alert_events", list[Any]()
        if rule_ids is not None:
            if not rule_ids:
                return []
            sql += f" WHERE rule_id IN ({','.join('?' * len(rule_ids))})"
            params.extend(rule_ids)
        rows = self.store.read(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
        return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]

    def queued_events(self) -> dict[str, list[dict[str, Any]]]:
        """Events waiting to be put into a message, by rule, oldest first."""
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self.store.read(
            "SELECT * FROM alert_events WHERE status = 'queued' AND message_id IS NULL ORDER BY id"
        ):
            out.setdefault(r["rule_id"], []).append({**dict(r), "detail": json.loads(r["detail"])})
        return out

    # -- messages (digest queue, retries, dead letters) -------------------------------------

    def add_message(self, *, rule_id: str, sink: str, target: str, payload: dict[str, Any],
                    event_ids: Sequence[int], now: datetime) -> int:
        """Queue one message for ``event_ids`` (attaching them to it), due now."""
        with self.store.transaction() as tx:
            message_id = tx.insert(
                "INSERT INTO alert_messages(rule_id, sink, target, payload, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (rule_id, sink, target, json.dumps(payload, default=str), _iso(now), _iso(now)),
            )
            tx.executemany("UPDATE alert_events SET message_id = ? WHERE id = ? AND message_id IS NULL",
                           [(message_id, e) for e in event_ids])
            return message_id

    def messages_since(self, rule_id: str, since: datetime) -> tuple[int, str | None]:
        """(messages created for ``rule_id`` since ``since``, creation time of its newest)."""
        rows = self.store.read(
            "SELECT COUNT(*) AS n, (SELECT MAX(created_at) FROM alert_messages WHERE rule_id = ?) AS last"
            " FROM alert_messages WHERE rule_id = ? AND created_at >= ?", (rule_id, rule_id, _iso(since)))
        return int(rows[0]["n"]), rows[0]["last"]

    def due_messages(self, now: datetime, *, limit: int = 100) -> list[MessageRow]:
        rows = self.store.read(
            "SELECT * FROM alert_messages WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (_iso(now), limit))
        return [_message(r) for r in rows]

    def next_due(self) -> str | None:
        """When the earliest pending message is due (None when nothing is pending)."""
        rows = self.store.read("SELECT MIN(next_attempt_at) AS t FROM alert_messages WHERE state = 'pending'")
        due: str | None = rows[0]["t"]
        return due

    def message_sent(self, message_id: int, now: datetime) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE alert_messages SET state = 'sent', attempts = attempts + 1, sent_at = ?,"
                       " last_error = NULL WHERE id = ?", (_iso(now), message_id))
            tx.execute("UPDATE alert_events SET status = 'sent' WHERE message_id = ? AND status = 'queued'",
                       (message_id,))

    def message_failed(self, message_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Count a failed attempt; ``retry_at=None`` moves the message to the dead-letter queue."""
        with self.store.transaction() as tx:
            if retry_at is None:
                tx.execute("UPDATE alert_messages SET state = 'dead', attempts = attempts + 1, last_error = ?"
                           " WHERE id = ?", (error[:2000], message_id))
                tx.execute("UPDATE alert_events SET status = 'dead' WHERE message_id = ? AND status = 'queued'",
                           (message_id,))
            else:
                tx.execute("UPDATE alert_messages SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
                           " WHERE id = ?", (error[:2000], _iso(retry_at), message_id))

    def messages(self, *, state: str | None = None, limit: int = 100) -> list[MessageRow]:
        """Messages, newest first; ``state="dead"`` lists the dead-letter queue."""
        sql, params = "SELECT * FROM alert_messages", []
        if state:
            sql += " WHERE state = ?"
            params.append(state)
        return [_message(r) for r in self.store.read(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])]

    # -- history for emerging-method detection ----------------------------------------------

    def method_rows(self, *, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """One row per (document, method hit) within the days ``first_day``..``last_day``: see
        :meth:`osintel.store.ControlStore.method_hits`."""
        return self.store.method_hits(first_day=first_day, last_day=last_day)

    def retry_dead(self, message_id: int, now: datetime) -> None:
        """Put a dead-lettered message back in the queue (an operator fixed the receiver)."""
        with self.store.transaction() as tx:
            if tx.execute("UPDATE alert_messages SET state = 'pending', attempts = 0, next_attempt_at = ?"
                          " WHERE id = ? AND state = 'dead'", (_iso(now), message_id)) == 0:
                raise NotFoundError(f"no dead-lettered alert message {message_id}")
            tx.execute("UPDATE alert_events SET status = 'queued' WHERE message_id = ? AND status = 'dead'",
                       (message_id,))


def lookback(mark: str, seconds: float) -> str:
    """The ISO time ``seconds`` before ``mark`` (an ISO time)."""
    return _iso(datetime.fromisoformat(mark) - timedelta(seconds=seconds))


def _insert_event(tx: Transaction, event: NewEvent) -> int | None:
    if tx.fetch_one("SELECT 1 FROM alert_events WHERE rule_id = ? AND doc_id = ?", (event.rule_id, event.doc_id)):
        return None
    earlier = tx.fetch_one(
        "SELECT doc_id FROM alert_events WHERE rule_id = ? AND story = ? AND status != 'duplicate' LIMIT 1",
        (event.rule_id, event.story))
    status = "duplicate" if earlier else "queued"
    detail = dict(event.detail)
    if earlier:
        detail["duplicate_of_alerted"] = earlier["doc_id"]
    event_id = tx.insert(
        "INSERT INTO alert_events(rule_id, doc_id, story, kind, status, detail, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (event.rule_id, event.doc_id, event.story, event.kind, status, json.dumps(detail, default=str),
         _iso(utcnow())),
    )
    return event_id if status == "queued" else None


def _set_mark(tx: Transaction, name: str, value: str) -> None:
    tx.execute("INSERT INTO alert_marks(name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name)"
               " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
               (name, value, _iso(utcnow())))


def _rule(row: Row) -> RuleRow:
    return RuleRow(row["id"], row["name"], row["kind"], row["owner_id"], row["owner_name"],
                   json.loads(row["spec"]), bool(row["enabled"]), row["created_at"], row["active_since"])


def _message(row: Row) -> MessageRow:
    return MessageRow(int(row["id"]), row["rule_id"], row["sink"], row["target"], json.loads(row["payload"]),
                      row["state"], int(row["attempts"]), row["last_error"])
