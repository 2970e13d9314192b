"""What a rule would have done: watchlist backtests over the index, and rule tests.

``osintel alerts backtest`` answers "how noisy is this rule?" before it is enabled: every stored
document the watchlist matches (the same query the live evaluation runs), grouped by day, with
copies of a story already matched counted as duplicates (they would not alert). Emerging-rule
backtests replay detection day by day (:func:`alerts.emerging.backtest`).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from indexer import And, Index, Node, Range
from alerts.state import AlertStore
from osintel.records import utcnow
from osintel.settings import AlertSettings
from alerts import emerging
from alerts.evaluate import event_detail, story_of
from alerts.rules import Rule

#: Deepest a watchlist backtest pages (offset paging is capped by the index).
MAX_BACKTEST_HITS = 10_000


def backtest_watchlist(index: Index, rule: Rule, *, days: int | None = None, examples: int = 20,
                       page_size: int = 500) -> dict[str, Any]:
    """Matches of ``rule`` among stored documents (collected in the last ``days`` days, or all)."""
    node: Node = rule.node()
    if days is not None:
        node = And((node, Range("collected", utcnow() - timedelta(days=days), None, True, True)))
    stories: set[str] = set()
    by_day: Counter[str] = Counter()
    alerts = duplicates = offset = 0
    first: list[dict[str, Any]] = []
    total = 0
    while offset < MAX_BACKTEST_HITS:
        result = index.search(node, limit=min(page_size, MAX_BACKTEST_HITS - offset), offset=offset, sort="published")
        total = result.total
        for hit in result.hits:
            story = story_of(hit.document)
            if story in stories:
                duplicates += 1
                continue
            stories.add(story)
            alerts += 1
            when = hit.document.published_at or hit.document.collected_at
            by_day[when.date().isoformat()] += 1
            if len(first) < examples:
                first.append(event_detail(rule, hit.document)["document"])
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            break
    return {"rule": {"id": rule.id, "name": rule.name, "kind": rule.kind, "query": rule.query},
            "matched": total, "alerts": alerts, "duplicates": duplicates,
            "truncated": total > MAX_BACKTEST_HITS, "days": days,
            "by_day": dict(sorted(by_day.items())), "examples": first}


def backtest_emerging(alerts: AlertStore, cfg: AlertSettings, rule: Rule, *, days: int,
                      today: date | None = None) -> dict[str, Any]:
    """Emerging-method signals the rule would have raised on each of the last ``days`` days."""
    last = today or utcnow().date()
    first = last - timedelta(days=days - 1)
    signals = emerging.backtest(alerts, cfg, first=first, last=last, methods=rule.methods,
                                per_place=rule.per_place, phrases=rule.phrases)
    return {"rule": {"id": rule.id, "name": rule.name, "kind": rule.kind, "methods": rule.methods},
            "first_day": first.isoformat(), "last_day": last.isoformat(), "alerts": len(signals),
            "signals": [s.as_detail() for s in signals]}
