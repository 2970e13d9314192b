"""Many watchlists are matched a group at a time: the same alerts as one search per rule, with
far fewer searches, and a rule's active-since window still holds inside a group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alerts.rules import build_rule, save_rule
from alerts.service import AlertService
from osintel.service.pipeline import drain_outbox
from osintel.store import ControlStore

from .conftest import StandInNLP, collect, doc, make_settings

TEXTS = [
    "a county lines gang moved drugs to Exeter", "cocaine found in a banana container at Felixstowe",
    "weather is fine", "small boat crossings rose in June", "a cannabis farm in a bungalow",
    "county lines and cocaine in Hull", "fraudsters phoned pensioners", "nothing to see",
]
QUERIES = ['"county lines"', "cocaine", "cannabis OR boat", "fraudsters", "weather AND fine", "unicorns",
           'cocaine AND NOT "county lines"', "drugs", "Hull OR Exeter", "pensioners"]


class CountingIndex:
    """The real index, counting the searches made through it."""

    def __init__(self, index: Any) -> None:
        self.index, self.searches = index, 0

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.searches += 1
        return self.index.search(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)


def _events(service: AlertService) -> set[tuple[str, str]]:
    return {(e["rule_id"], e["detail"]["document"]["title"]) for e in service.alerts.history(limit=10_000)}


def _run(tmp_path: Path, index: Any, queries: list[str]) -> tuple[AlertService, list[Any], int]:
    settings = make_settings(tmp_path, dispatch_poll_seconds=30.0)
    store = ControlStore(settings.store_path)
    counting = CountingIndex(index)
    service = AlertService(settings, store, counting)  # type: ignore[arg-type]
    rules = [build_rule({"id": f"r{n}", "name": f"r{n}", "query": q,
                         "delivery": {"sink": "file", "target": "a.jsonl"}}) for n, q in enumerate(queries)]
    for rule in rules:
        save_rule(service.alerts, rule)
    collect(store, [doc(n, text) for n, text in enumerate(TEXTS)])
    counting.searches = 0
    drain_outbox(store, StandInNLP(), counting, batch_size=len(TEXTS), after_batch=service.after_batch)  # type: ignore[arg-type]
    return service, rules, counting.searches


def test_forty_rules_alert_exactly_what_each_rules_own_search_finds(tmp_path: Path, index) -> None:
    service, rules, _ = _run(tmp_path, index, [QUERIES[n % len(QUERIES)] for n in range(40)])
    expected = {(rule.id, hit.document.title) for rule in rules for hit in index.search(rule.node(), limit=50).hits}
    assert len(expected) > 40 and _events(service) == expected
    service.alerts.store.close()


def test_rules_that_match_nothing_cost_a_search_per_group_not_per_rule(tmp_path: Path, index) -> None:
    # One rule that matches among forty that never do (the usual watchlist: phones, names, plates).
    queries = ['"county lines"'] + [f'nomatch{n} OR phone:"+4479{n:08d}"' for n in range(1, 40)]
    service, rules, searches = _run(tmp_path, index, queries)
    assert _events(service) == {("r0", "story 0"), ("r0", "story 5")}
    assert searches <= 15, f"{searches} searches for {len(rules)} rules"
    service.alerts.store.close()


def test_a_rule_added_later_never_alerts_on_what_was_indexed_before_it_even_in_a_group(tmp_path: Path, index) -> None:
    settings = make_settings(tmp_path, dispatch_poll_seconds=30.0)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    for n in range(10):
        save_rule(service.alerts, build_rule({"id": f"old{n}", "name": f"old{n}", "query": "cocaine",
                                              "delivery": {"sink": "file", "target": "a.jsonl"}}))
    collect(store, [doc(1, "county lines before the rule"), doc(2, "cocaine before the rule")])
    drain_outbox(store, StandInNLP(), index, batch_size=10, after_batch=service.after_batch)
    save_rule(service.alerts, build_rule({"id": "new", "name": "new", "query": '"county lines" OR cocaine',
                                          "delivery": {"sink": "file", "target": "a.jsonl"}}))
    collect(store, [doc(3, "county lines after the rule"), doc(4, "cocaine after the rule")])
    drain_outbox(store, StandInNLP(), index, batch_size=10, after_batch=service.after_batch)
    events = _events(service)
    assert {title for rule_id, title in events if rule_id == "new"} == {"story 3", "story 4"}
    assert {title for rule_id, title in events if rule_id == "old0"} == {"story 2", "story 4"}
    store.close()


def test_rules_are_compiled_once_and_an_edited_rule_takes_effect_at_the_next_sweep(tmp_path: Path, index,
                                                                                  monkeypatch) -> None:
    import alerts.evaluate as evaluate

    compiled: list[str] = []
    real = evaluate.from_row  # type: ignore[attr-defined]

    def counting(row: Any) -> Any:
        compiled.append(row.id)
        return real(row)

    monkeypatch.setattr(evaluate, "from_row", counting)
    settings = make_settings(tmp_path, dispatch_poll_seconds=30.0)
    store = ControlStore(settings.store_path)
    service = AlertService(settings, store, index)
    for n in range(5):
        save_rule(service.alerts, build_rule({"id": f"r{n}", "name": f"r{n}", "query": f"nomatch{n}",
                                              "delivery": {"sink": "file", "target": "a.jsonl"}}))
    save_rule(service.alerts, build_rule({"id": "edit", "name": "edit", "query": "cocaine",
                                          "delivery": {"sink": "file", "target": "a.jsonl"}}))
    for batch in range(3):
        collect(store, [doc(f"a{batch}", "cocaine seized"), doc(f"b{batch}", "county lines")])
        drain_outbox(store, StandInNLP(), index, batch_size=10, after_batch=service.after_batch)
    assert sorted(compiled) == sorted([f"r{n}" for n in range(5)] + ["edit"])  # once each over 3 sweeps
    save_rule(service.alerts, build_rule({"id": "edit", "name": "edit", "query": '"county lines"',
                                          "delivery": {"sink": "file", "target": "a.jsonl"}}))
    collect(store, [doc("c", "cocaine seized again"), doc("d", "county lines again")])
    drain_outbox(store, StandInNLP(), index, batch_size=10, after_batch=service.after_batch)
    assert compiled.count("edit") == 2
    edit_titles = {title for rule_id, title in _events(service) if rule_id == "edit"}
    assert "story d" in edit_titles and "story c" not in edit_titles
    store.close()
