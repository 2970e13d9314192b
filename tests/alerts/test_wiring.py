"""The alert stage wired as the CLI wires it: `osintel enrich` and the `osintel run` worker."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.tantivy_index import TantivyIndex
from osintel.service import commands
from osintel.store import ControlStore
from osintel.service.worker import EnrichmentWorker
from alerts.rules import build_rule, save_rule

from .conftest import StandInNLP, collect, doc, make_settings

SEEDS = """
watchlists:
  - id: lines
    name: County lines
    query: '"county lines" AND language:en'
    delivery: {sink: file, target: lines.jsonl}
"""


def test_enrich_seeds_watchlists_from_yaml_and_delivers_after_indexing(tmp_path: Path) -> None:
    seeds = tmp_path / "watchlists.yaml"
    seeds.write_text(SEEDS)
    settings = make_settings(tmp_path, watchlists_file=str(seeds))
    with ControlStore(settings.store_path) as store:
        collect(store, [doc(1, "county lines case"), doc(2, "unrelated")])
    report = commands.enrich(settings, enricher=StandInNLP())
    assert report.indexed == 2
    lines = (settings.data_dir / "alerts" / "lines.jsonl").read_text().splitlines()
    assert [json.loads(x)["alerts"][0]["document"]["title"] for x in lines] == ["story 1"]
    # A second enrich with nothing new, and an edited seed file, change nothing already stored.
    seeds.write_text(SEEDS.replace("County lines", "Renamed"))
    with ControlStore(settings.store_path) as store:
        collect(store, [doc(3, "county lines again")])
    commands.enrich(settings, enricher=StandInNLP())
    lines = (settings.data_dir / "alerts" / "lines.jsonl").read_text().splitlines()
    assert [json.loads(x)["rule"]["name"] for x in lines] == ["County lines", "County lines"]


def test_the_running_worker_alerts_through_the_delivery_thread(tmp_path: Path, receiver) -> None:
    settings = make_settings(tmp_path, receiver.url, dispatch_poll_seconds=30.0)
    store = ControlStore(settings.store_path)
    index = TantivyIndex(settings.index_dir)
    alerts = commands.build_alerts(settings, store, index)
    assert alerts is not None  # alerts.enabled is on by default
    save_rule(alerts.alerts, build_rule({"name": "w", "query": '"county lines"',
                                         "delivery": {"sink": "webhook", "target": receiver.url}}))
    alerts.start()
    worker = EnrichmentWorker(settings, store, StandInNLP(), index, poll_seconds=0.05,
                              after_batch=alerts.after_batch)
    worker.start()
    try:
        collect(store, [doc(1, "county lines live")])
        # The hook wakes the delivery thread: well before its 30 s poll.
        assert receiver.arrived.wait(10.0)
    finally:
        worker.stop()
        alerts.stop()
        index.close()
        store.close()
    assert [r.json()["alerts"][0]["document"]["title"] for r in receiver.requests] == ["story 1"]


def test_cli_history_retry_and_deliver_a_dead_letter(tmp_path: Path, receiver, capsys) -> None:
    from osintel.cli import run as cli

    host = receiver.url.split("/")[2]
    config = tmp_path / "osintel.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[alerts]\nwatchlists_file = ""\nmax_attempts = 1\n'
                      f'webhook_secret = "k"\nwebhook_allowed_hosts = "{host}"\n')
    base = ["--config", str(config)]
    assert cli(["alerts", "add", "w", "--query", '"county lines"', "--webhook", receiver.url, "--id", "w", *base]) == 0
    settings = make_settings(tmp_path, receiver.url)
    with ControlStore(settings.store_path) as store:
        collect(store, [doc(1, "county lines dead letter")])
    receiver.always = 500
    commands.enrich(settings.with_overrides(**{"alerts.max_attempts": 1}), enricher=StandInNLP())
    capsys.readouterr()
    assert cli(["alerts", "history", "--json", *base]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [e["status"] for e in history["events"]] == ["dead"]
    (dead,) = history["dead_letters"]
    assert "HTTP 500" in dead["last_error"]
    receiver.always = None
    assert cli(["alerts", "retry", str(dead["id"]), *base]) == 0
    assert cli(["alerts", "deliver", "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["sent"] == 1
    assert len(receiver.requests) == 2
    assert cli(["alerts", "history", "--json", *base]) == 0
    assert [e["status"] for e in json.loads(capsys.readouterr().out)["events"]] == ["sent"]
