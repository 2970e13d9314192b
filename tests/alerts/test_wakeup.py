"""A document collected by another process (the crawl child) is enriched, indexed and alerted on
as soon as it is committed, not at the worker's next poll."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from alerts.rules import build_rule, save_rule
from indexer.tantivy_index import TantivyIndex
from osintel import wakeup
from osintel.service import commands
from osintel.service.worker import EnrichmentWorker
from osintel.store import ControlStore

from .conftest import StandInNLP, doc, make_settings

COLLECT = """
import sys
from osintel.records import Document, SourceRef
from osintel.store import ControlStore
doc = Document(url="https://news.example/elsewhere", source=SourceRef(id="s", name="S"), title="from the crawl child",
               text="county lines seen from another process")
with ControlStore(sys.argv[1]) as store:
    assert store.add_collected(doc, content_sha256="elsewhere")
"""


def test_a_document_collected_by_another_process_is_alerted_well_before_the_poll(tmp_path: Path, receiver) -> None:
    settings = make_settings(tmp_path, receiver.url, dispatch_poll_seconds=30.0)
    store = ControlStore(settings.store_path)
    index = TantivyIndex(settings.index_dir)
    alerts = commands.build_alerts(settings, store, index)
    assert alerts is not None
    save_rule(alerts.alerts, build_rule({"name": "w", "query": '"county lines"',
                                         "delivery": {"sink": "webhook", "target": receiver.url}}))
    alerts.start()
    worker = EnrichmentWorker(settings, store, StandInNLP(), index, poll_seconds=30.0,
                              after_batch=alerts.after_batch)
    worker.start()
    try:
        time.sleep(0.5)  # the worker's first (empty) drain is over: from now on it sleeps 30 s
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", COLLECT, str(settings.store_path)], check=True, timeout=60)
        assert receiver.arrived.wait(20.0), "no alert before the fallback poll"
        assert time.monotonic() - started < 20.0
    finally:
        worker.stop()
        alerts.stop()
        index.close()
        store.close()
    assert [r.json()["alerts"][0]["document"]["title"] for r in receiver.requests] == ["from the crawl child"]


def test_a_poke_without_a_listener_is_dropped_and_a_second_listener_is_refused(tmp_path: Path) -> None:
    store_path = tmp_path / "osintel.sqlite3"
    wakeup.poke(store_path)  # nobody listens: nothing raised, nothing waits
    woken: list[int] = []
    first = wakeup.WakeListener(store_path, lambda: woken.append(1))
    second = wakeup.WakeListener(store_path, lambda: woken.append(2))
    assert first.start()
    try:
        assert not second.start()  # one worker per store; the other falls back to polling
        wakeup.poke(store_path)
        deadline = time.monotonic() + 5
        while not woken and time.monotonic() < deadline:
            time.sleep(0.01)
        assert woken == [1]
    finally:
        first.close()
        second.close()


def test_the_worker_warms_its_enricher_up_before_the_first_drain(tmp_path: Path) -> None:
    calls: list[str] = []

    class Warming(StandInNLP):
        def warm_up(self) -> None:
            calls.append("warm_up")

        def enrich(self, docs):  # type: ignore[no-untyped-def]
            calls.append("enrich")
            return super().enrich(docs)

    settings = make_settings(tmp_path)
    store = ControlStore(settings.store_path)
    index = TantivyIndex(settings.index_dir)
    worker = EnrichmentWorker(settings, store, Warming(), index, poll_seconds=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while "warm_up" not in calls and time.monotonic() < deadline:
            time.sleep(0.02)
        store.add_collected(doc(1, "county lines"), content_sha256="w1")
        while worker.status()["indexed"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        index.close()
        store.close()
    assert calls[0] == "warm_up" and calls.count("warm_up") == 1 and "enrich" in calls
