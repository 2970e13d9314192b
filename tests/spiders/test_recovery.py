"""After kill -9: a crawl whose processes died is closed, its WARC sealed, and nothing else touched.

Real ``osintel`` processes against the fixture site on 127.0.0.1. The crawl is started in its own
session and its whole process group (the CLI and its crawl child) is killed with SIGKILL once a
few documents are stored; the next writing command must find the dead run.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from osintel.service import procs
from osintel.service.sealing import file_sha256

OSINTEL = [sys.executable, "-m", "osintel"]
ARTICLES = 30
DELAY = 0.3


def _article(i: int) -> bytes:
    return (f"<html><head><title>Recovery {i}</title></head><body><article><h1>Recovery {i}</h1>"
            f"<p>Report {i}: officers from the regional organised crime unit searched {i} premises and "
            f"seized cash, phones and a ledger of deliveries.</p></article></body></html>").encode()


def _register(site: Any, prefix: str, delay: float) -> str:
    for i in range(ARTICLES):
        def route(h: Any, i: int = i) -> None:
            time.sleep(delay)
            h._send(200, _article(i))
        site.routes[f"/{prefix}/a/{i}.html"] = route
    items = "".join(f"<item><title>Recovery {i}</title><link>{site.base}/{prefix}/a/{i}.html</link></item>"
                    for i in range(ARTICLES))
    feed = f'<rss version="2.0"><channel><title>{prefix}</title>{items}</channel></rss>'.encode()
    site.routes[f"/{prefix}/feed.xml"] = lambda h: h._send(200, feed, "application/rss+xml")
    return f"{site.base}/{prefix}/feed.xml"


def _setup(site: Any, tmp_path: Path, prefix: str, delay: float = DELAY) -> tuple[dict[str, str], Path]:
    sources = {"allow_private_hosts": [site.host_port], "sources": [
        {"id": "slow", "kind": "feed", "urls": [_register(site, prefix, delay)]},
        {"id": "quick", "kind": "feed", "urls": [f"{site.base}/feeds/news.rss"]},
    ]}
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(yaml.safe_dump(sources))
    data_dir = tmp_path / "data"
    env = {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), "OSINTEL_SOURCES_FILE": str(sources_file),
           "OSINTEL_CRAWL_AUTOTHROTTLE": "false", "OSINTEL_CRAWL_DOWNLOAD_DELAY": "0",
           "OSINTEL_CRAWL_RETRY_TIMES": "0", "OSINTEL_CRAWL_CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    return env, data_dir


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(OSINTEL + list(args), env=env, capture_output=True, text=True, timeout=300)


def _documents(data_dir: Path) -> int:
    try:
        with sqlite3.connect(f"file:{data_dir / 'osintel.sqlite3'}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def _wait(predicate: Any, what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _flags(env: dict[str, str], source_id: str) -> list[str]:
    rows = json.loads(_cli(env, "sources", "--json").stdout)
    return [f["code"] for f in next(r for r in rows if r["id"] == source_id)["health"]["flags"]]


def _audit(env: dict[str, str], tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / "audit.jsonl"
    assert _cli(env, "audit", "export", "--output", str(out)).returncode == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_a_crawl_killed_with_its_child_is_closed_as_interrupted_and_its_warc_sealed_by_the_next_command(
    site: Any, tmp_path: Path
) -> None:
    env, data_dir = _setup(site, tmp_path, "rk")
    crawl = subprocess.Popen(OSINTEL + ["crawl", "slow"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _wait(lambda: _documents(data_dir) >= 3, "three documents stored")
    os.killpg(crawl.pid, signal.SIGKILL)  # the CLI and its crawl child, as a power cut would
    crawl.wait(timeout=30)
    [warc] = (data_dir / "warc").glob("slow-1-*.warc.gz")
    # The kill can land in the middle of a record; cutting the last bytes makes that certain here.
    os.truncate(warc, warc.stat().st_size - 7)

    # Before any recovery: the run is shown as orphaned, and the open WARC fails verification clearly.
    assert "orphaned-run" in _wait(lambda: "orphaned-run" in _flags(env, "slow") and _flags(env, "slow"),
                                   "the dead run to be seen as orphaned", timeout=30)
    before = _cli(env, "warc", "verify")
    assert before.returncode == 1
    assert "unreadable" in before.stdout and "still writable" in before.stdout

    # Any writing command recovers first: here a crawl of another source.
    quick = _cli(env, "crawl", "quick")
    assert quick.returncode == 0, quick.stderr[-2000:]
    assert "recovered run 1 (slow): its processes" in quick.stderr
    assert "marked interrupted, sealed 1 WARC file(s)" in quick.stderr
    flags = _flags(env, "slow")
    assert "interrupted" in flags and "orphaned-run" not in flags and "running" not in flags
    with sqlite3.connect(data_dir / "osintel.sqlite3") as db:
        status, error, finished = db.execute(
            "SELECT status, error, finished_at FROM crawl_runs WHERE id = 1").fetchone()
    assert status == "interrupted" and finished is not None
    assert error.startswith("interrupted: its processes (process ")

    assert warc.stat().st_mode & 0o222 == 0  # read-only now
    after = _cli(env, "warc", "verify", "--json")
    assert after.returncode == 0, after.stdout
    report = json.loads(after.stdout)
    assert report["ok"] and report["writable_files"] == []
    [note] = report["interrupted_files"]
    assert note["file"] == f"warc/{warc.name}" and note["run_id"] == 1
    assert 0 < note["complete_bytes"] < note["size"] == warc.stat().st_size
    assert report["documents_checked"] == _documents(data_dir)  # every stored capture still verifies

    # The oversight record: every crawl.start has its crawl.finish, the seal is logged, the chain holds.
    events = _audit(env, tmp_path)
    starts = {e["detail"]["run_id"] for e in events if e["detail"].get("kind") == "crawl.start"}
    finishes = {e["detail"]["run_id"]: e["detail"] for e in events if e["detail"].get("kind") == "crawl.finish"}
    assert starts == set(finishes) == {1, 2}
    assert finishes[1]["status"] == "interrupted" and finishes[1]["recovered"] is True
    [seal] = [e["detail"] for e in events if e["detail"].get("kind") == "warc.seal"]
    assert seal["file"] == f"warc/{warc.name}" and seal["sha256"] == file_sha256(warc)
    assert _cli(env, "audit", "verify").returncode == 0

    # A sealed file that changes afterwards is a mismatch, not a note.
    os.chmod(warc, 0o644)
    with warc.open("ab") as fh:
        fh.write(b"\0")
    changed = _cli(env, "warc", "verify")
    assert changed.returncode == 1 and "sealed-changed" in changed.stdout


def test_recovery_leaves_a_run_whose_process_is_alive_alone(site: Any, tmp_path: Path) -> None:
    env, data_dir = _setup(site, tmp_path, "rl", delay=10.0)  # long enough to be alive while the others run
    crawl = subprocess.Popen(OSINTEL + ["crawl", "slow"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _documents(data_dir) >= 2, "two documents stored")
        quick = _cli(env, "crawl", "quick")
        assert quick.returncode == 0, quick.stderr[-2000:]
        assert "recovered" not in quick.stderr
        flags = _flags(env, "slow")
        assert crawl.poll() is None, "the slow crawl ended before the checks: they prove nothing"
        assert "running" in flags and "orphaned-run" not in flags
        assert crawl.wait(timeout=120) == 0
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()
    with sqlite3.connect(data_dir / "osintel.sqlite3") as db:
        status, stats = db.execute("SELECT status, stats FROM crawl_runs WHERE id = 1").fetchone()
    assert status == "ok" and json.loads(stats)["items/new"] == ARTICLES


def test_a_pid_now_held_by_another_process_does_not_count_as_the_owner() -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        owner = procs.of_pid(sleeper.pid)
        assert procs.liveness(owner) == procs.ALIVE
        # Same host and PID, another start time: what a recorded owner looks like once the kernel
        # has given its PID to a new process.
        reused = procs.ProcessId(owner.host, owner.pid, procs.current().started)
        assert procs.liveness(reused) == procs.DEAD
        assert procs.liveness(procs.ProcessId("another-host.example", sleeper.pid, owner.started)) == procs.UNKNOWN
    finally:
        sleeper.kill()
        sleeper.wait()
    assert procs.liveness(owner) == procs.DEAD
