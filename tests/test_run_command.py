"""`osintel run` as real processes: one instance per data dir, and the whole service end to end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from demo import DemoSite, demo_sources_config
from osintel.errors import AlreadyRunningError
from osintel.service.runner_lock import LOCK_FILE, InstanceLock, read_lock_pid
from osintel.store import ControlStore

OSINTEL = [sys.executable, "-m", "osintel"]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: Any, timeout: float, what: str, proc: subprocess.Popen[str] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) while waiting for {what}: "
                                 f"{proc.stderr.read()[-3000:] if proc.stderr else ''}")
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def empty_sources(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text("sources: []\n")
    return path


def test_a_second_run_on_the_same_data_dir_refuses_with_exit_2_naming_the_pid(
    tmp_path: Path, empty_sources: Path
) -> None:
    data_dir = tmp_path / "data"
    first = subprocess.Popen(OSINTEL + ["run", "--no-api", "--sources", str(empty_sources), "--exit-after", "60"],
                             env=_env(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: read_lock_pid(data_dir / LOCK_FILE) == first.pid, 30, "the first run to take the lock", first)
        second = subprocess.run(OSINTEL + ["run", "--no-api", "--sources", str(empty_sources), "--exit-after", "1"],
                                env=_env(data_dir), capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert "already running" in second.stderr and f"process {first.pid}" in second.stderr
        assert first.poll() is None  # the first one is untouched
        with pytest.raises(AlreadyRunningError) as err:
            InstanceLock(data_dir).acquire()
        assert err.value.pid == first.pid
    finally:
        first.kill()  # not a clean stop: the kernel still drops the flock
        first.wait(timeout=30)
    with InstanceLock(data_dir) as lock:  # a stale lock file never blocks a restart
        assert lock.held and read_lock_pid(data_dir / LOCK_FILE) == os.getpid()


def test_run_collects_enriches_indexes_and_serves_source_health_then_stops_on_sigterm(tmp_path: Path) -> None:
    site = DemoSite(port=0)
    base = site.start()
    try:
        config = demo_sources_config(base)
        news = next(s for s in config["sources"] if s["id"] == "demo-news")
        config["sources"] = [
            {**news, "schedule": "every 2s", "max_pages": 6},
            {"id": "unscheduled", "kind": "feed", "urls": [base + "/missing.xml"]},
        ]
        sources_file = tmp_path / "sources.yaml"
        sources_file.write_text(yaml.safe_dump(config))
        data_dir, port = tmp_path / "data", _free_port()
        # A short shutdown grace: a crawl still going at SIGTERM has its process terminated.
        env = _env(data_dir, OSINTEL_WORKER_POLL_SECONDS="0.5", OSINTEL_CRAWL_AUTOTHROTTLE="false",
                   OSINTEL_SCHEDULE_SHUTDOWN_GRACE_SECONDS="1")
        created = subprocess.run(OSINTEL + ["keys", "create", "--role", "supervisor", "--name", "run-test", "--json"],
                                 env=env, capture_output=True, text=True, timeout=60, check=True)
        auth = {"X-API-Key": json.loads(created.stdout)["secret"]}
        proc = subprocess.Popen(
            OSINTEL + ["run", "--port", str(port), "--sources", str(sources_file), "--exit-after", "240"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        api = f"http://127.0.0.1:{port}"

        def get(path: str) -> Any:
            try:
                r = httpx.get(api + path, timeout=5, headers=auth)
            except httpx.TransportError:
                return None
            return r.json() if r.status_code == 200 else None

        try:
            def indexed() -> Any:
                body = get("/health")
                return body if body and body["documents"] > 0 and body["outbox"]["pending"] == 0 else None

            health = _wait(indexed, 180, "documents crawled, enriched and indexed", proc)
            assert health["outbox"]["done"] == health["documents"]

            def succeeded() -> Any:
                # Documents are indexed while their crawl is still running; wait for it to close.
                rows = get("/api/sources")
                by_id = {r["id"]: r for r in rows or []}
                return by_id if by_id.get("demo-news", {}).get("health", {}).get("last_success_at") else None

            rows = _wait(succeeded, 30, "the first scheduled crawl to finish", proc)
            news_row = rows["demo-news"]
            # Every 2 s: the next run may already be going; the last success is what counts here.
            assert news_row["health"]["last_success_at"] and news_row["health"]["schedule"] == "every 2s"
            assert news_row["last_run"]["status"] in {"ok", "page-limit", "running"}
            assert not {"failing", "never-run"} & {f["code"] for f in news_row["health"]["flags"]}
            assert [f["code"] for f in rows["unscheduled"]["health"]["flags"]] == ["never-run"]
            with ControlStore(data_dir / "osintel.sqlite3") as store:
                first = store.runs(source_id="demo-news")[-1]
            assert first["status"] in {"ok", "page-limit"} and first["stats"]["items/new"] > 0
            assert first["stats"]["downloader/response_status_count/200"] > 0
            hits = get("/api/search?q=*&limit=1") or get("/api/search?q=police&limit=1")
            assert hits is not None
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=40) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "scheduling demo-news (every 2s)" in stderr
        assert "scheduled crawl of demo-news finished" in stderr
        assert "enrichment worker: indexed" in stderr
        assert "scheduler stopped" in stderr
        assert read_lock_pid(data_dir / LOCK_FILE) is None  # released on a clean stop

        out = subprocess.run(OSINTEL + ["sources", "--json", "--sources", str(sources_file)],
                             env=_env(data_dir), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        cli_rows = {r["id"]: r for r in json.loads(out.stdout)}
        news_cli = cli_rows["demo-news"]
        assert set(news_cli) == set(news_row) and news_cli["health"]["last_success_at"]
        # No run is left "running": finished, or interrupted/failed when its process was stopped.
        assert news_cli["health"]["last_run"]["status"] != "running"
        with ControlStore(data_dir / "osintel.sqlite3") as store:
            assert all(r["status"] != "running" for r in store.runs(source_id="demo-news"))
    finally:
        site.stop()


class _Enricher:
    def enrich(self, docs: Any) -> list[Any]:
        return list(docs)


class _FlakyIndex:
    """An index that is down for its first ``failures`` writes, then works."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.docs: list[Any] = []

    def upsert(self, docs: Any) -> None:
        if self.failures > 0:
            self.failures -= 1
            from osintel.errors import IndexBackendError

            raise IndexBackendError("index is down")
        self.docs.extend(docs)


def test_the_enrichment_worker_survives_an_index_outage_loudly_and_catches_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from osintel.records import Document, SourceRef
    from osintel.settings import load_settings
    from osintel.service.worker import EnrichmentWorker

    settings = load_settings(env={}, overrides={"data_dir": str(tmp_path), "worker.error_backoff_seconds": 0.1,
                                                "worker.poll_seconds": 0.1})
    index = _FlakyIndex(failures=2)
    with ControlStore(settings.store_path) as store:
        for n in range(3):
            store.add_collected(Document(url=f"https://e.example/{n}", source=SourceRef(id="s"), text=f"t {n}"),
                                content_sha256=str(n))
        worker = EnrichmentWorker(settings, store, _Enricher(), index)
        worker.start()
        try:
            _wait(lambda: len(index.docs) == 3, 10, "the worker to index after the outage")
            status = worker.status()
            assert status["running"] and status["errors"] == 2 and status["indexed"] == 3
            assert status["consecutive_errors"] == 0 and "index is down" in status["last_error"]
            assert store.outbox_counts() == {"pending": 0, "done": 3, "failed": 0}
        finally:
            worker.stop()
        assert not worker.status()["running"]
    failures = [r for r in caplog.records if r.name == "osintel.service.worker" and r.levelname == "ERROR"]
    assert len(failures) == 2 and all(r.exc_info for r in failures)  # logged with the traceback
