"""The collection scheduler: intervals, one run per source at a time, persistence, missed runs."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from osintel.settings import Settings, load_settings
from osintel.sources import SourceConfig, parse_sources
from spiders.scheduler import JOBSTORE_FILE, CollectionScheduler, run_scheduled_crawl


def _settings(tmp_path: Path, policy: str = "run-once") -> Settings:
    return load_settings(env={}, overrides={"data_dir": str(tmp_path), "schedule.misfire_policy": policy,
                                            "schedule.shutdown_grace_seconds": 5})


def _sources(**schedules: str | None) -> SourceConfig:
    return parse_sources({"sources": [
        {"id": sid, "kind": "feed", "urls": [f"http://{sid}.example/feed.xml"], "schedule": sched}
        for sid, sched in schedules.items()
    ]})


class Recorder:
    """A crawl_fn that records (source, start, end) and can be slow."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.calls: list[tuple[str, float, float]] = []
        self.active: dict[str, int] = {}
        self.max_active: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, settings: Settings, sources: SourceConfig, source_id: str) -> Any:
        with self.lock:
            self.active[source_id] = self.active.get(source_id, 0) + 1
            self.max_active[source_id] = max(self.max_active.get(source_id, 0), self.active[source_id])
        started = time.monotonic()
        time.sleep(self.seconds)
        with self.lock:
            self.active[source_id] -= 1
            self.calls.append((source_id, started, time.monotonic()))
        return None

    def starts(self, source_id: str) -> list[float]:
        with self.lock:
            return [s for sid, s, _ in self.calls if sid == source_id]


def test_sources_run_on_their_interval_overlap_each_other_but_never_themselves(tmp_path: Path) -> None:
    crawl = Recorder(seconds=1.6)  # slower than the 1 s schedule
    scheduler = CollectionScheduler(_settings(tmp_path), _sources(a="every 1s", b="every 1s", off=None),
                                    crawl_fn=crawl)
    decisions = scheduler.start()
    assert {d.source_id: d.action for d in decisions} == {"a": "new", "b": "new"}  # no schedule, no job
    try:
        time.sleep(5.0)
    finally:
        scheduler.shutdown(grace_seconds=5)
    for sid in ("a", "b"):
        starts = crawl.starts(sid)
        assert len(starts) >= 2, crawl.calls
        assert crawl.max_active[sid] == 1
        spans = sorted((s, e) for x, s, e in crawl.calls if x == sid)
        assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:]))
    a_spans = [(s, e) for x, s, e in crawl.calls if x == "a"]
    b_spans = [(s, e) for x, s, e in crawl.calls if x == "b"]
    assert any(sa < eb and sb < ea for sa, ea in a_spans for sb, eb in b_spans)  # different sources overlap
    assert "off" not in crawl.max_active


def test_a_source_already_running_is_not_started_again(tmp_path: Path) -> None:
    crawl = Recorder(seconds=1.0)
    scheduler = CollectionScheduler(_settings(tmp_path), _sources(a="every 1h"), crawl_fn=crawl)
    scheduler.start()
    try:
        first = threading.Thread(target=run_scheduled_crawl, args=(scheduler.key, "a"))
        first.start()
        time.sleep(0.2)
        assert scheduler.running() == {"a"}
        assert run_scheduled_crawl(scheduler.key, "a") == "already-running"
        first.join()
        assert len(crawl.calls) == 1
    finally:
        scheduler.shutdown(grace_seconds=1)


def test_jobs_persist_across_restarts_and_follow_configuration_changes(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = CollectionScheduler(settings, _sources(a="every 1h", b="0 3 * * *", c="every 2h"), crawl_fn=Recorder())
    first.start()
    jobs = {j["id"]: j for j in first.jobs()}
    first.shutdown(grace_seconds=1)
    assert (tmp_path / JOBSTORE_FILE).exists()

    second = CollectionScheduler(settings, _sources(a="every 1h", b="0 4 * * *", d="every 1d"), crawl_fn=Recorder())
    decisions = {d.source_id: d for d in second.start()}
    try:
        assert decisions["a"].action == "resumed" and decisions["a"].missed == 0
        assert {j["id"]: j for j in second.jobs()}["a"]["next_run_time"] == jobs["a"]["next_run_time"]
        assert decisions["b"].action == "rescheduled"
        assert decisions["b"].next_run_time is not None and decisions["b"].next_run_time.hour == 4
        assert decisions["d"].action == "new"
        assert sorted(j["id"] for j in second.jobs()) == ["a", "b", "d"]  # c left the config: removed
    finally:
        second.shutdown(grace_seconds=1)


def _down_for_a_while(tmp_path: Path, policy: str) -> tuple[CollectionScheduler, Recorder, float]:
    """Schedule `every 2s`, stop before the first run, stay down 4.6 s (2 missed), restart."""
    sources = _sources(a="every 2s")
    first = CollectionScheduler(_settings(tmp_path, policy), sources, crawl_fn=Recorder())
    first.start()
    first.shutdown(grace_seconds=1)
    time.sleep(4.6)
    crawl = Recorder()
    second = CollectionScheduler(_settings(tmp_path, policy), sources, crawl_fn=crawl)
    restarted = time.monotonic()
    second.start()
    return second, crawl, restarted


def test_missed_runs_are_coalesced_into_one_immediate_run_under_run_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="spiders.scheduler")
    scheduler, crawl, restarted = _down_for_a_while(tmp_path, "run-once")
    try:
        time.sleep(0.8)
        decision = scheduler.decisions[0]
        assert decision.action == "run-once" and decision.missed == 2
        starts = crawl.starts("a")
        assert len(starts) == 1 and starts[0] - restarted < 0.8  # one run for both missed ones, at once
    finally:
        scheduler.shutdown(grace_seconds=1)
    assert "missed 2 scheduled run(s)" in caplog.text and "policy run-once: running it once now" in caplog.text


def test_missed_runs_are_skipped_to_the_next_fire_time_under_skip(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="spiders.scheduler")
    scheduler, crawl, _ = _down_for_a_while(tmp_path, "skip")
    try:
        time.sleep(0.8)
        decision = scheduler.decisions[0]
        assert decision.action == "skip" and decision.missed == 2
        assert crawl.calls == []  # nothing ran for the missed slots
        time.sleep(1.5)
        assert len(crawl.starts("a")) == 1  # the schedule goes on at its next fire time
    finally:
        scheduler.shutdown(grace_seconds=1)
    assert "missed 2 scheduled run(s)" in caplog.text and "policy skip: not running them" in caplog.text


def test_shutdown_waits_for_a_running_crawl_within_the_grace_period(tmp_path: Path) -> None:
    crawl = Recorder(seconds=1.0)
    scheduler = CollectionScheduler(_settings(tmp_path), _sources(a="every 1h"), crawl_fn=crawl)
    scheduler.start()
    worker = threading.Thread(target=run_scheduled_crawl, args=(scheduler.key, "a"))
    worker.start()
    time.sleep(0.2)
    scheduler.shutdown(grace_seconds=5)
    assert scheduler.running() == set() and len(crawl.calls) == 1
    assert run_scheduled_crawl(scheduler.key, "a") == "no-scheduler"  # unregistered after shutdown
    worker.join()
