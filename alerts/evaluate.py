"""Watchlist evaluation: every newly indexed document against every enabled watchlist, once.

The high-water mark is the newest ``documents.enriched_at`` evaluated (the outbox ack sets it
after the index has the document). Each sweep reads documents indexed since the mark minus
``alerts.overlap_seconds`` (commits from other processes may land slightly out of order), skips
those already evaluated (``alert_evaluated``), evaluates the rest and records the result, the
evaluated set and the new mark in one transaction. So:

- nothing is alerted twice: (rule, document) is unique in the history, and a restart resumes from
  the stored mark;
- nothing is missed between runs: the store, not the caller, says what is new; a crash before
  the record commits just evaluates the same documents again;
- a late document (published long ago, indexed now) is new by its indexing time.

Matching uses the search index itself, so a watchlist fires exactly on what the same query finds
in search: the rule's query AND its scope AND ``id:`` one of the new documents. This works on
every backend, without a percolator.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from indexer import MAX_CLAUSES, And, Hit, Index, Node, Not, Or, Term
from alerts.state import AlertStore, NewEvent, PendingDoc, RuleRow, lookback
from osintel.errors import AlertError
from osintel.records import Document, utcnow
from osintel.settings import AlertSettings
from alerts.rules import Rule, from_row

log = logging.getLogger(__name__)

MARK = "watchlists"


@dataclass
class SweepReport:
    """What one :meth:`WatchlistEvaluator.sweep` did."""

    evaluated: int = 0
    alerts: int = 0
    matched: int = 0
    queued_event_ids: list[int] = field(default_factory=list)


def story_of(doc: Document) -> str:
    """The near-duplicate story a document belongs to (its own id if it is the first)."""
    return doc.cluster_id or doc.duplicate_of or doc.id


def event_detail(rule: Rule, doc: Document) -> dict[str, Any]:
    """What an alert says about a matching document (crawled values; sinks escape them)."""
    return {
        "rule": {"id": rule.id, "name": rule.name, "query": rule.query},
        "document": {
            "id": doc.id, "title": doc.title, "url": doc.url, "source": doc.source.id,
            "published_at": doc.published_at.isoformat() if doc.published_at else None,
            "collected_at": doc.collected_at.isoformat(), "language": doc.language,
            "relevance": doc.relevance, "grading": doc.grading.code if doc.grading else None,
            "methods": sorted({m.id for m in doc.methods}),
            "places": sorted({loc.name for loc in doc.locations})[:10],
            "excerpt": doc.text[:400],
        },
    }


def _leaves(node: Node) -> int:
    if isinstance(node, (And, Or)):
        return sum(_leaves(child) for child in node.clauses)
    if isinstance(node, Not):
        return _leaves(node.clause)
    return 1


#: Most query leaves one group search may hold: the rest of the clause limit is left for the
#: ``id:`` clauses of the documents it is matched against.
_GROUP_LEAVES = MAX_CLAUSES // 2


@dataclass(frozen=True)
class _Compiled:
    """A rule as the evaluator uses it: validated, its query parsed, its size counted."""

    rule: Rule
    node: Node
    leaves: int


def _row_key(row: RuleRow) -> str:
    return json.dumps([row.id, row.name, row.kind, row.enabled, row.owner_id, row.owner_name, row.spec],
                      sort_keys=True, default=str)


def _groups(rules: list[_Compiled]) -> list[list[_Compiled]]:
    """``rules`` in order, cut into groups whose queries together have at most
    :data:`_GROUP_LEAVES` leaves (a rule larger than that is a group of its own)."""
    groups: list[list[_Compiled]] = []
    size = 0
    for rule in rules:
        leaves = rule.leaves
        if groups and size + leaves <= _GROUP_LEAVES:
            groups[-1].append(rule)
            size += leaves
        else:
            groups.append([rule])
            size = leaves
    return groups


class WatchlistEvaluator:
    """Evaluates watchlists against newly indexed documents (see the module docstring)."""

    def __init__(self, alerts: AlertStore, index: Index, settings: AlertSettings, *, page_size: int = 500) -> None:
        self.alerts = alerts
        self.index = index
        self.settings = settings
        self.page_size = page_size
        # Rules compiled by their stored row: a sweep runs after every indexed batch, and
        # validating and parsing a thousand rules each time would dominate its cost.
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, row: RuleRow) -> _Compiled:
        key = _row_key(row)
        compiled = self._compiled.get(key)
        if compiled is None:
            rule = from_row(row)
            node = rule.node()
            compiled = self._compiled[key] = _Compiled(rule, node, _leaves(node))
        return compiled

    def sweep(self) -> SweepReport:
        """Evaluate everything indexed since the mark; returns counts and new event ids."""
        report = SweepReport()
        rules: list[_Compiled] = []
        active: dict[str, datetime] = {}
        rows = self.alerts.rules(kind="watchlist", enabled_only=True)
        if len(self._compiled) > 2 * len(rows) + 100:
            self._compiled.clear()  # rules edited or removed since: drop the stale entries
        for row in rows:
            try:
                rules.append(self._compile(row))
            except AlertError as exc:  # one broken rule must not stop the others
                log.error("alert rule %s cannot be evaluated: %s", row.id, exc)
                continue
            active[row.id] = datetime.fromisoformat(row.active_since)
        mark = self.alerts.get_mark(MARK)
        if mark is None:
            # First sweep ever: start from the oldest enabled rule (or now), never the whole
            # history: replaying history is what `osintel alerts backtest` is for.
            mark = min([utcnow(), *active.values()]).isoformat()
            self.alerts.set_mark(MARK, mark)
        while True:
            since = lookback(self.alerts.get_mark(MARK) or mark, self.settings.overlap_seconds)
            docs = self.alerts.pending_documents(since=since, limit=self.settings.sweep_batch)
            if not docs:
                return report
            events = self._evaluate(rules, active, docs, report)
            prune = lookback(since, self.settings.overlap_seconds)
            queued = self.alerts.record_evaluation(MARK, docs, events, prune_before=prune)
            report.evaluated += len(docs)
            report.alerts += len(queued)
            report.queued_event_ids.extend(queued)
            if len(docs) < self.settings.sweep_batch:
                return report

    def _evaluate(self, rules: list[_Compiled], active: dict[str, datetime], docs: list[PendingDoc],
                  report: SweepReport) -> list[NewEvent]:
        if not rules:
            return []
        events: list[NewEvent] = []
        eligible: dict[str, list[str]] = {}  # rule id -> documents enriched since it became active
        indexed_at = [(d.doc_id, datetime.fromisoformat(d.enriched_at)) for d in docs]
        for compiled in rules:
            since = active[compiled.rule.id]
            ids = [doc_id for doc_id, at in indexed_at if at >= since]
            if ids:
                eligible[compiled.rule.id] = ids
        # Most documents match no watchlist: one search per group of rules (their queries OR-ed)
        # finds the documents any of them matches; a group with hits is halved and each half
        # searched on those documents only, down to single rules. With a thousand rules and few
        # matches that is some thirty searches per batch instead of a thousand.
        found: list[tuple[Rule, list[Hit]]] = []
        for group in _groups([r for r in rules if r.rule.id in eligible]):
            union = list(dict.fromkeys(doc_id for c in group for doc_id in eligible[c.rule.id]))
            self._attribute(group, union, eligible, found)
        for rule, hits in found:
            allowed = set(eligible[rule.id])
            for hit in hits:
                if hit.id not in allowed:
                    continue  # matched among a group's candidates, but enriched before this rule was active
                report.matched += 1
                events.append(NewEvent(rule.id, hit.id, story_of(hit.document), "watchlist",
                                       event_detail(rule, hit.document)))
        # Oldest first, so the first copy of a story is the one alerted and later ones are duplicates.
        order = {d.doc_id: n for n, d in enumerate(docs)}
        events.sort(key=lambda e: order[e.doc_id])
        return events

    def _attribute(self, group: list[_Compiled], ids: list[str], eligible: dict[str, list[str]],
                   found: list[tuple[Rule, list[Hit]]]) -> None:
        """Append (rule, its hits among ``ids``) for every rule of ``group`` that matches any."""
        if len(group) == 1:
            rule = group[0].rule
            allowed = set(eligible[rule.id])
            hits = self._matches(group[0].node, [i for i in ids if i in allowed])
            if hits:
                found.append((rule, hits))
            return
        hits = self._matches(Or(tuple(c.node for c in group)), ids)
        if not hits:
            return
        candidates = list(dict.fromkeys(hit.id for hit in hits))
        half = len(group) // 2
        for part in (group[:half], group[half:]):
            self._attribute(part, candidates, eligible, found)

    def _matches(self, node: Node, ids: list[str]) -> list[Hit]:
        """The documents among ``ids`` that ``node`` matches, in as few searches as the clause
        limit allows (the rule's own clauses plus one ``id:`` clause per document)."""
        chunk = max(1, MAX_CLAUSES - _leaves(node))
        found: list[Hit] = []
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            wanted: Node = Or(tuple(Term("id", doc_id) for doc_id in part))
            result = self.index.search(And((node, wanted)), limit=len(part), sort="published")
            found.extend(result.hits)
        return found
