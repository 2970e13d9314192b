"""Source health from real crawl_runs rows: each flag appears when it should, and only then."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from osintel.service import procs
from osintel.service.health import SourceHealth, source_health, sources_report
from osintel.records import utcnow
from osintel.settings import Settings, load_settings
from osintel.sources import parse_sources
from osintel.store import ControlStore


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={}, overrides={"data_dir": str(tmp_path)})


@pytest.fixture
def store(settings: Settings) -> Iterator[ControlStore]:
    with ControlStore(settings.store_path) as s:
        yield s


def _stats(*, new: int = 10, seen: int = 0, duplicate: int = 0, no_text: int = 0, other_failed: int = 0,
           statuses: dict[int, int] | None = None, pages: int | None = None) -> dict[str, Any]:
    """Stats shaped like spiders.runs.summarise_stats output for a feed crawl."""
    articles = new + duplicate + no_text
    statuses = statuses or {200: articles + 1}
    stats: dict[str, Any] = {
        "pages_fetched": pages if pages is not None else sum(statuses.values()),
        "bytes": 1000 * articles,
        "duration_seconds": 2.5,
        "articles/fetched": articles,
        "items/new": new, "items/seen": seen, "items/duplicate": duplicate,
        "items/failed": no_text + other_failed, "items/refused": 0,
        "feeds/fetched": 1,
    }
    if no_text:
        stats["items/failed/no-text"] = no_text
    for code, count in statuses.items():
        stats[f"downloader/response_status_count/{code}"] = count
    return stats


def _run(store: ControlStore, source_id: str, status: str = "ok", error: str | None = None, **kw: Any) -> int:
    run_id = store.start_run(source_id, owner=procs.current().to_dict())
    store.finish_run(run_id, status=status, stats=_stats(**kw), error=error)
    return run_id


def _health(store: ControlStore, settings: Settings, *, now: Any = None, **source: Any) -> SourceHealth:
    spec = {"id": "s1", "kind": "feed", "urls": ["http://news.example/feed.xml"], **source}
    return source_health(store, parse_sources({"sources": [spec]}), settings, now=now)[0]


def test_a_source_without_runs_is_flagged_never_run(store: ControlStore, settings: Settings) -> None:
    health = _health(store, settings)
    assert health.codes == ["never-run"]
    assert health.status == "warning" and health.last_run is None and health.last_success_at is None


def test_a_healthy_source_has_no_flags_and_reports_its_last_run(store: ControlStore, settings: Settings) -> None:
    _run(store, "s1", new=12, seen=3, statuses={200: 14, 404: 1})
    health = _health(store, settings, schedule="every 30m")
    assert health.flags == [] and health.status == "ok"
    last = health.last_run
    assert last is not None and last["status"] == "ok"
    assert last["items"] == {"new": 12, "seen": 3, "duplicate": 0, "failed": 0, "refused": 0}
    assert last["http_status"] == {"200": 14, "404": 1}
    assert last["pages_fetched"] == 15 and last["bytes"] == 12000 and last["duration_seconds"] == 2.5
    assert health.last_success_at == last["finished_at"]


def test_runs_that_yield_nothing_at_all_are_flagged_but_seen_items_are_not_nothing(
    store: ControlStore, settings: Settings
) -> None:
    _run(store, "s1", new=5)
    _run(store, "s1", new=0, seen=0, statuses={200: 1})
    assert "no-new-items" not in _health(store, settings).codes  # one empty run is not a pattern
    _run(store, "s1", new=0, seen=0, statuses={200: 1})
    assert "no-new-items" in _health(store, settings).codes
    _run(store, "s1", new=0, seen=8, statuses={200: 1})  # the feed still lists known items: alive
    assert "no-new-items" not in _health(store, settings).codes


@pytest.mark.parametrize("code", [403, 429])
def test_forbidden_and_rate_limited_responses_in_the_last_run_are_flagged(
    store: ControlStore, settings: Settings, code: int
) -> None:
    _run(store, "s1", new=4, statuses={200: 5, code: 3})
    health = _health(store, settings)
    assert health.codes == [f"http-{code}"]
    assert f"3 HTTP {code}" in health.flags[0].message
    _run(store, "s1", new=4, statuses={200: 5})
    assert _health(store, settings).flags == []  # only the last run counts


def test_a_sudden_jump_in_extraction_failures_is_flagged_as_template_drift(
    store: ControlStore, settings: Settings
) -> None:
    for _ in range(3):
        _run(store, "s1", new=19, no_text=1)  # 5% failing: normal noise
    assert "extraction-drift" not in _health(store, settings).codes
    _run(store, "s1", new=4, no_text=16)  # 80% of fetched articles yield no text
    health = _health(store, settings)
    assert health.codes == ["extraction-drift"] and health.status == "error"
    assert "80%" in health.flags[0].message
    assert health.last_run is not None and health.last_run["extraction_failed"] == 16


def test_a_source_that_always_extracted_badly_or_fetched_few_pages_is_not_drifting(
    store: ControlStore, settings: Settings
) -> None:
    _run(store, "s1", new=2, no_text=8)
    _run(store, "s1", new=2, no_text=8)
    assert "extraction-drift" not in _health(store, settings).codes  # no good baseline: no drift
    _run(store, "s2", new=30)
    _run(store, "s2", new=1, no_text=3)  # 4 articles: below drift_min_articles
    assert "extraction-drift" not in _health(store, settings, id="s2").codes
    _run(store, "s2", new=5, no_text=1, other_failed=20)  # 404s are not extraction failures
    assert "extraction-drift" not in _health(store, settings, id="s2").codes


def test_a_failed_or_timed_out_last_run_is_flagged_failing_with_the_streak(
    store: ControlStore, settings: Settings
) -> None:
    _run(store, "s1", new=5)
    _run(store, "s1", status="failed", error="crawl process exited with status 1", new=0, statuses={})
    _run(store, "s1", status="timeout", error="crawl process killed after 1800s", new=0, statuses={})
    health = _health(store, settings)
    assert health.codes == ["failing"] and health.consecutive_failures == 2
    assert "timeout" in health.flags[0].message and "killed after 1800s" in health.flags[0].message
    _run(store, "s1", new=5)
    health = _health(store, settings)
    assert health.flags == [] and health.consecutive_failures == 0


def test_a_running_crawl_is_shown_and_the_last_finished_run_is_judged(
    store: ControlStore, settings: Settings
) -> None:
    _run(store, "s1", status="failed", error="boom", new=0, statuses={})
    store.start_run("s1", owner=procs.current().to_dict())
    health = _health(store, settings)
    assert health.codes == ["running", "failing"]
    assert health.last_run is not None and health.last_run["status"] == "running"


def test_a_scheduled_source_without_success_for_three_intervals_is_stale(
    store: ControlStore, settings: Settings
) -> None:
    _run(store, "s1", new=5)
    now = utcnow()
    assert "stale" not in _health(store, settings, schedule="every 1h", now=now + timedelta(hours=2)).codes
    assert "stale" in _health(store, settings, schedule="every 1h", now=now + timedelta(hours=4)).codes
    assert "stale" in _health(store, settings, schedule="0 * * * *", now=now + timedelta(hours=4)).codes
    assert "stale" not in _health(store, settings, schedule=None, now=now + timedelta(days=30)).codes
    _run(store, "s1", status="failed", error="x", new=0, statuses={})
    later = _health(store, settings, schedule="every 1h", now=now + timedelta(hours=4))
    assert {"stale", "failing"} <= set(later.codes)


def test_authorisation_expired_and_expiring_soon_are_flagged(store: ControlStore, settings: Settings) -> None:
    _run(store, "s1", new=5)
    today = date.today()
    assert "authorisation-expired" in _health(store, settings, authorisation_expires=today - timedelta(days=1)).codes
    expiring = _health(store, settings, authorisation_expires=today + timedelta(days=10))
    assert expiring.codes == ["authorisation-expiring"] and "10 day(s)" in expiring.flags[0].message
    assert _health(store, settings, authorisation_expires=today + timedelta(days=60)).flags == []


def test_the_sources_report_keeps_the_overview_keys_and_adds_health(store: ControlStore, settings: Settings) -> None:
    _run(store, "a", new=3, statuses={200: 3, 429: 2})
    sources = parse_sources({"sources": [
        {"id": "a", "name": "A", "kind": "feed", "urls": ["http://a.example/f"], "schedule": "every 30m"},
        {"id": "b", "kind": "sitemap", "urls": ["http://b.example/s.xml"]},
    ]})
    rows = sources_report(store, sources, settings)
    assert [r["id"] for r in rows] == ["a", "b"]
    assert {"id", "name", "kind", "urls", "grading", "enabled", "last_run", "health"} <= set(rows[0])
    assert rows[0]["last_run"]["items_new"] == 3 and rows[0]["last_run"]["pages"] == 5
    assert [f["code"] for f in rows[0]["health"]["flags"]] == ["http-429"]
    assert rows[0]["health"]["schedule"] == "every 30m"
    assert rows[1]["last_run"] is None and rows[1]["health"]["flags"][0]["code"] == "never-run"
