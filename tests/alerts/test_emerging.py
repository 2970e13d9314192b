"""Emerging methods: a synthetic rise in stored history alerts (with its numbers); flat does not."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from indexer.tantivy_index import TantivyIndex
from alerts.state import AlertStore
from osintel.cli import run as cli
from osintel.records import Document
from osintel.settings import Settings
from osintel.store import ControlStore
from alerts.backtest import backtest_emerging, backtest_watchlist
from alerts.emerging import History, detect, poisson_sf
from alerts.rules import build_rule, save_rule
from alerts.service import AlertService

from .conftest import collect, doc, enriched, make_settings

TODAY = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
FLAT = "Police said the county lines network used children to move drugs"
NEW = "Victims were groomed through a crypto romance lure before the transfer"


def history(flat_days: int = 63, rise: bool = False) -> list[Document]:
    """One county-lines story a day for ``flat_days``; with ``rise``, fraud stories that run at one
    a week and then jump to two a day in the last week, with a phrase never seen before."""
    docs = [doc(f"flat-{d}", f"{FLAT}.", published=TODAY - timedelta(days=d), methods=["drugs.county_lines"],
                countries=["GB"]) for d in range(flat_days)]
    if rise:
        docs += [doc(f"base-{d}", "Investment fraud reported to police.", published=TODAY - timedelta(days=d),
                     methods=["fraud.investment"], countries=["GB"]) for d in range(7, 63, 7)]
        docs += [doc(f"rise-{d}-{k}", f"{NEW} in case {k}.", published=TODAY - timedelta(days=d, hours=k),
                     methods=["fraud.investment"], countries=["GB"]) for d in range(6) for k in range(2)]
    return docs


def stored(tmp_path: Path, docs: list[Document], **alerts: Any) -> tuple[Settings, ControlStore]:
    settings = make_settings(tmp_path, **alerts)
    store = ControlStore(settings.store_path)
    collect(store, docs)
    rich = [enriched(d) for d in docs]
    store.save_documents(rich)
    with TantivyIndex(settings.index_dir) as index:
        index.upsert(rich)
    return settings, store


def test_poisson_tail_matches_known_values() -> None:
    assert poisson_sf(0, 3.0) == 1.0
    assert poisson_sf(1, 2.0) == pytest.approx(1 - 0.1353352832, rel=1e-9)
    assert poisson_sf(10, 1.0) == pytest.approx(1.1142547833e-07, rel=1e-6)


def test_a_synthetic_rise_of_one_method_raises_an_explained_signal(tmp_path: Path) -> None:
    settings, store = stored(tmp_path, history(rise=True))
    signals = detect(History.load(AlertStore(store), (TODAY - timedelta(days=70)).date(), TODAY.date()),
                     TODAY.date(), settings.alerts)
    rises = {(s.method, s.country): s for s in signals if s.kind == "rise"}
    assert set(rises) == {("fraud.investment", None), ("fraud.investment", "GB")}
    s = rises[("fraud.investment", None)]
    assert s.recent == 12 and s.baseline == 8 and s.score >= settings.alerts.emerging_min_score
    assert "12 stories" in s.explanation() and "8 in the 56 days before" in s.explanation()
    phrases = [s.phrase for s in signals if s.kind == "phrase"]
    assert phrases and phrases[0] is not None and "crypto romance lure" in phrases[0]
    store.close()


def test_a_flat_history_raises_nothing(tmp_path: Path) -> None:
    settings, store = stored(tmp_path, history())
    assert detect(History.load(AlertStore(store), (TODAY - timedelta(days=70)).date(), TODAY.date()),
                  TODAY.date(), settings.alerts) == []
    assert backtest_emerging(AlertStore(store), settings.alerts,
                             build_rule({"name": "e", "kind": "emerging",
                                         "delivery": {"sink": "file", "target": "e.jsonl"}}),
                             days=20)["alerts"] == 0
    store.close()


def test_nothing_fires_without_a_baseline(tmp_path: Path) -> None:
    settings, store = stored(tmp_path, [d for d in history(rise=True)
                                       if d.published_at is not None and d.published_at > TODAY - timedelta(days=7)])
    assert detect(History.load(AlertStore(store), (TODAY - timedelta(days=70)).date(), TODAY.date()),
                  TODAY.date(), settings.alerts) == []
    store.close()


def test_an_emerging_rule_delivers_the_rise_once_per_window(tmp_path: Path, receiver) -> None:
    settings, store = stored(tmp_path, history(rise=True), emerging_interval_seconds=0.0)
    settings = make_settings(tmp_path, receiver.url, emerging_interval_seconds=0.0)
    with TantivyIndex(settings.index_dir) as index:
        service = AlertService(settings, store, index)
        save_rule(service.alerts, build_rule({"name": "fraud rises", "kind": "emerging", "methods": "fraud.",
                                              "phrases": False,
                                              "delivery": {"sink": "webhook", "target": receiver.url}}))
        service.evaluate()
        service.dispatch()
        service.evaluate()  # detection runs again: the same rise does not alert again
        service.dispatch()
    assert len(receiver.requests) == 2  # two signals, one message each
    alerts = [r.json()["alerts"][0] for r in receiver.requests]
    assert {a["signal"]["country"] for a in alerts} == {None, "GB"}
    assert all("score" in a["explanation"] and a["signal"]["recent"] == 12 for a in alerts)
    store.close()


def test_backtest_shows_when_the_rise_would_have_fired(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings, store = stored(tmp_path, history(rise=True))
    store.close()
    data_dir = str(settings.data_dir)
    assert cli(["alerts", "backtest", "--emerging", "--days", "30", "--json", "--data-dir", data_dir]) == 0
    result = json.loads(capsys.readouterr().out)
    fired = [(s["signal"]["kind"], s["signal"]["method"], s["signal"]["country"], s["signal"]["end"])
             for s in result["signals"]]
    rises = [f for f in fired if f[0] == "rise"]
    assert {(m, c) for _, m, c, _ in rises} == {("fraud.investment", None), ("fraud.investment", "GB")}
    first_day = min(end for *_, end in rises)
    assert (TODAY - timedelta(days=6)).date().isoformat() <= first_day <= TODAY.date().isoformat()
    assert not any(m == "drugs.county_lines" for _, m, _, _ in fired)

    assert cli(["alerts", "backtest", "--query", '"romance lure"', "--json", "--data-dir", data_dir]) == 0
    watch = json.loads(capsys.readouterr().out)
    assert watch["alerts"] == 12 and sum(watch["by_day"].values()) == 12
    assert cli(["alerts", "backtest", "--emerging", "--days", "30", "--data-dir", data_dir]) == 0
    text = capsys.readouterr().out
    assert "Emerging method: fraud.investment" in text and "expected" in text


def test_watchlist_backtest_counts_duplicate_stories_once(tmp_path: Path) -> None:
    docs = [doc(1, "county lines a", story="s1"), doc(2, "county lines a copy", story="s1"), doc(3, "county lines b")]
    settings, store = stored(tmp_path, docs)
    rule = build_rule({"name": "w", "query": '"county lines"', "delivery": {"sink": "file", "target": "w.jsonl"}})
    with TantivyIndex(settings.index_dir) as index:
        result = backtest_watchlist(index, rule)
    assert (result["matched"], result["alerts"], result["duplicates"]) == (3, 2, 1)
    store.close()


def test_cli_adds_lists_tests_and_removes_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings, store = stored(tmp_path, history(flat_days=3))
    store.close()
    base = ["--data-dir", str(settings.data_dir)]
    assert cli(["alerts", "add", "lines", "--query", '"county lines"', "--file", "lines.jsonl", "--id", "w1",
                *base]) == 0
    assert capsys.readouterr().out.strip() == "w1"
    assert cli(["alerts", "add", "bad", "--query", "nosuchfield:x", "--file", "x.jsonl", *base]) == 2  # bad input
    assert "unknown field" in capsys.readouterr().err
    assert cli(["alerts", "list", "--json", *base]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rules] == ["w1"] and rules[0]["delivery"]["target"] == "lines.jsonl"
    assert cli(["alerts", "test", "w1", "--send", "--json", *base]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["matches"]) == 3 and out["sent"] is True
    assert (settings.data_dir / "alerts" / "lines.jsonl").read_text().count("\n") == 1
    assert cli(["alerts", "remove", "w1", *base]) == 0
    assert cli(["alerts", "remove", "w1", *base]) == 1
    capsys.readouterr()
    assert cli(["alerts", "list", "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_young_store_compares_with_the_history_it_has_not_a_window_of_zeros(tmp_path: Path) -> None:
    # Two county-lines stories a day for 20 days: against 56 days padded with zeros this would
    # look like a 4x rise; against the 13 days of baseline actually stored it is flat.
    docs = [doc(f"young-{d}-{k}", f"{FLAT} ({'ab'[k]}).", published=TODAY - timedelta(days=d, hours=k),
                methods=["drugs.county_lines"]) for d in range(20) for k in range(2)]
    settings, store = stored(tmp_path, docs)
    assert detect(History.load(AlertStore(store), (TODAY - timedelta(days=70)).date(), TODAY.date()),
                  TODAY.date(), settings.alerts) == []
    store.close()
