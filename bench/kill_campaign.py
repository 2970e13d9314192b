"""Kill -9 campaign: SIGKILL `osintel crawl`, `osintel enrich` and `osintel run` at random moments,
then count what was lost, duplicated or left stuck.

Run: ``.venv/bin/python bench/kill_campaign.py [--kills 20] [--source ID ...] [--seed N] [--json]``.

The bundled demo site is served by ``osintel demo-site`` on 127.0.0.1. A reference crawl into its
own data directory (never killed) says which documents the site yields. Then three phases, each
``--kills`` SIGKILLs at a random moment (seeded), alternating between killing the whole process
group (the command and its crawl children, like a power cut) and the command alone (its crawl
children are orphaned and finish on their own):

1. ``crawl``: ``osintel crawl --all`` killed 0-3 s after its runs are open; then one
   ``osintel crawl --all`` to completion (its recovery closes the dead runs).
2. ``enrich`` (same data directory): ``osintel enrich`` killed 0-1.5 s after its first lease (four
   times in five), or while loading its models; then one ``osintel enrich`` to completion.
3. ``run`` (a fresh data directory, every source scheduled ``every 5s``): ``osintel run --no-api``
   killed 0-15 s after its first scheduled crawl started; then ``osintel crawl --all`` and
   ``osintel enrich`` to completion.

After each phase it counts, all of which should be zero: documents of the reference missing from
the store (``lost``), documents the reference does not have (``extra``), stored documents missing
from the index (``lost_in_index``), index entries beyond one per document (``duplicated_in_index``,
``extra_in_index``; after phase 1 the index is not built yet and is not counted), runs still
``running`` (``stuck_runs``), outbox rows leased by dead processes (``dead_leases``), outbox rows
still pending or failed after the final drain (``outbox_pending``, ``outbox_failed``), audit
``crawl.start`` events without a ``crawl.finish`` (``unfinished_runs_in_audit``), a broken audit
chain (``audit_broken``), WARC verification problems (``warc_problems``) and writable WARC files
(``writable_warcs``). It also reports what the recovery did: runs marked interrupted, WARC files
sealed (and how many end in an unfinished record) and leases released. Exit status 1 when a
should-be-zero count is not. ``kills_mid_work`` counts the kills that found a crawl run open or
outbox rows leased (the others hit a command starting up or already finishing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo import demo_sources_config  # noqa: E402

OSINTEL = [sys.executable, "-m", "osintel"]
#: Counts that must be zero.
PROBLEMS = ("lost", "extra", "lost_in_index", "duplicated_in_index", "extra_in_index", "stuck_runs",
            "dead_leases", "outbox_pending", "outbox_failed", "unfinished_runs_in_audit", "audit_broken",
            "warc_problems", "writable_warcs")


class Campaign:
    """One bench run: a working directory, the demo site, the sources and the seeded RNG."""

    def __init__(self, work: Path, base_url: str, *, kills: int, only: list[str], seed: int) -> None:
        self.work = work
        self.kills = kills
        self.rng = random.Random(seed)
        config = demo_sources_config(base_url)
        if only:
            config["sources"] = [s for s in config["sources"] if s["id"] in only]
        self.sources = work / "sources.yaml"
        self.sources.write_text(yaml.safe_dump(config))
        scheduled = {**config, "sources": [{**s, "schedule": "every 5s"} for s in config["sources"]]}
        self.scheduled = work / "sources-scheduled.yaml"
        self.scheduled.write_text(yaml.safe_dump(scheduled))
        self.logs = work / "logs"
        self.logs.mkdir(exist_ok=True)
        self.counter = 0

    # -- processes ------------------------------------------------------------------------------

    def env(self, data_dir: Path, sources: Path | None = None) -> dict[str, str]:
        return {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), "OSINTEL_SOURCES_FILE": str(sources or self.sources),
                "OSINTEL_CRAWL_AUTOTHROTTLE": "false", "OSINTEL_WORKER_POLL_SECONDS": "1",
                "OSINTEL_SCHEDULE_SHUTDOWN_GRACE_SECONDS": "1"}

    def cli(self, data_dir: Path, *args: str, sources: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(OSINTEL + list(args), env=self.env(data_dir, sources), capture_output=True,
                              text=True, timeout=3600)

    def start(self, data_dir: Path, *args: str, sources: Path | None = None) -> subprocess.Popen[bytes]:
        self.counter += 1
        log = (self.logs / f"{self.counter:03d}-{args[0]}.log").open("wb")
        return subprocess.Popen(OSINTEL + list(args), env=self.env(data_dir, sources), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, proc: subprocess.Popen[bytes], data_dir: Path, *, group: bool, since: str) -> bool:
        """SIGKILL the command (and its group); True when it was in the middle of work (a crawl
        run open or outbox rows leased)."""
        alive = proc.poll() is None
        busy = alive and (_running(data_dir) > 0 or _leased(data_dir, since))
        if group:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        elif alive:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Orphaned crawl children finish on their own; wait so phases do not overlap.
        deadline = time.monotonic() + 600
        while _group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        return busy

    # -- phases ---------------------------------------------------------------------------------

    def reference(self) -> set[str]:
        ref = self.work / "reference"
        started = time.monotonic()
        done = self.cli(ref, "crawl", "--all")
        if done.returncode != 0:
            raise SystemExit(f"reference crawl failed: {done.stderr[-2000:]}")
        self.crawl_seconds = time.monotonic() - started
        return set(_store_ids(ref))

    def crawl_phase(self, data_dir: Path) -> dict[str, Any]:
        landed = 0
        for n in range(self.kills):
            first, since = _last_run(data_dir) + 1, _now()
            proc = self.start(data_dir, "crawl", "--all")
            # Once its runs are open, within 3 s (a crawl that finds everything seen takes about that).
            _wait_for(lambda: _last_run(data_dir) >= first or proc.poll() is not None, 120)
            time.sleep(self.rng.uniform(0.0, min(3.0, 0.7 * self.crawl_seconds)))
            landed += self.kill(proc, data_dir, group=n % 2 == 0, since=since)
        final = self.cli(data_dir, "crawl", "--all")
        return {"kills": self.kills, "kills_mid_work": landed, "final_exit": final.returncode,
                "recovery": _recovery_lines(final.stderr)}

    def enrich_phase(self, data_dir: Path) -> dict[str, Any]:
        landed = 0
        for n in range(self.kills):
            since = _now()
            proc = self.start(data_dir, "enrich")
            if self.rng.random() < 0.8:  # mostly mid-drain; sometimes while loading models
                _wait_for(lambda: _leased(data_dir, since) or proc.poll() is not None, 180)
                time.sleep(self.rng.uniform(0.0, 1.5))  # about one batch: work is left for every kill
            else:
                time.sleep(self.rng.uniform(1.0, 12.0))
            landed += self.kill(proc, data_dir, group=True, since=since)
        final = self.cli(data_dir, "enrich")
        return {"kills": self.kills, "kills_mid_work": landed, "final_exit": final.returncode,
                "recovery": _recovery_lines(final.stderr)}

    def run_phase(self, data_dir: Path) -> dict[str, Any]:
        landed = 0
        for n in range(self.kills):
            first, since = _last_run(data_dir) + 1, _now()
            proc = self.start(data_dir, "run", "--no-api", sources=self.scheduled)
            # Once a scheduled crawl has started (models are loaded by then), within 15 s.
            _wait_for(lambda: _last_run(data_dir) >= first or proc.poll() is not None, 180)
            time.sleep(self.rng.uniform(0.0, 15.0))
            landed += self.kill(proc, data_dir, group=n % 2 == 0, since=since)
        crawl = self.cli(data_dir, "crawl", "--all")
        enrich = self.cli(data_dir, "enrich")
        return {"kills": self.kills, "kills_mid_work": landed,
                "final_exit": max(crawl.returncode, enrich.returncode),
                "recovery": _recovery_lines(crawl.stderr) + _recovery_lines(enrich.stderr)}

    # -- counting -------------------------------------------------------------------------------

    def check(self, data_dir: Path, reference: set[str], *, indexed: bool) -> dict[str, Any]:
        ids = set(_store_ids(data_dir))
        out: dict[str, Any] = {"documents": len(ids), "reference": len(reference),
                               "lost": len(reference - ids), "extra": len(ids - reference)}
        if indexed:
            entries = _index_ids(data_dir)
            counts = Counter(entries)
            out.update({"indexed": len(counts), "lost_in_index": len(ids - set(counts)),
                        "duplicated_in_index": sum(n - 1 for n in counts.values()),
                        "extra_in_index": len(set(counts) - ids)})
        # Read from the store itself, not through osintel's own views: no osintel process runs now,
        # so every unexpired lease is held by a dead one.
        with _ro(data_dir) as db:
            out["stuck_runs"] = db.execute("SELECT COUNT(*) FROM crawl_runs WHERE status = 'running'").fetchone()[0]
            out["runs_by_status"] = dict(db.execute("SELECT status, COUNT(*) FROM crawl_runs GROUP BY status"))
            out["dead_leases"] = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND leased_until > ?", (_now(),)).fetchone()[0]
            outbox = dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
        if indexed:
            out["outbox_pending"] = outbox.get("pending", 0)
            out["outbox_failed"] = outbox.get("failed", 0)
        audit_file = self.work / "audit.jsonl"
        self.cli(data_dir, "audit", "export", "--output", str(audit_file), "--purpose", "kill campaign")
        details = [json.loads(line)["detail"] for line in audit_file.read_text().splitlines()]
        kinds = Counter(d.get("kind") for d in details)
        starts = {d["run_id"] for d in details if d.get("kind") == "crawl.start"}
        finishes = {d["run_id"] for d in details if d.get("kind") == "crawl.finish"}
        out["unfinished_runs_in_audit"] = len(starts - finishes)
        out["audit_broken"] = int(self.cli(data_dir, "audit", "verify").returncode != 0)
        out["recovered_runs"] = sum(1 for d in details if d.get("kind") == "crawl.finish" and d.get("recovered"))
        out["sealed_warcs"] = kinds.get("warc.seal", 0)
        out["released_lease_events"] = kinds.get("outbox.release", 0)
        verify = json.loads(self.cli(data_dir, "warc", "verify", "--json").stdout)
        out["warc_problems"] = len(verify["mismatches"])
        out["writable_warcs"] = len(verify["writable_files"])
        out["warcs_with_unfinished_record"] = len(verify.get("interrupted_files", []))
        out["warc_files"] = verify["files"]
        return out


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _ro(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data_dir / 'osintel.sqlite3'}?mode=ro", uri=True, timeout=10)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _leased(data_dir: Path, since: str = "") -> bool:
    """Outbox rows under an unexpired lease taken after ``since`` (an ISO time)."""
    try:
        with _ro(data_dir) as db:
            return db.execute("SELECT 1 FROM outbox WHERE state = 'pending' AND leased_until > ? AND updated_at > ?"
                              " LIMIT 1", (_now(), since)).fetchone() is not None
    except sqlite3.Error:
        return False


def _running(data_dir: Path) -> int:
    try:
        with _ro(data_dir) as db:
            return int(db.execute("SELECT COUNT(*) FROM crawl_runs WHERE status = 'running'").fetchone()[0])
    except sqlite3.Error:
        return 0


def _last_run(data_dir: Path) -> int:
    try:
        with _ro(data_dir) as db:
            return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM crawl_runs").fetchone()[0])
    except sqlite3.Error:
        return 0


def _store_ids(data_dir: Path) -> list[str]:
    with _ro(data_dir) as db:
        return [r[0] for r in db.execute("SELECT id FROM documents")]


def _index_ids(data_dir: Path) -> list[str]:
    """Every entry of the embedded index (duplicates kept), read with a plain searcher."""
    from indexer import open_index
    from indexer.base import MatchAll
    from osintel.settings import load_settings

    index = open_index(load_settings(env={"OSINTEL_DATA_DIR": str(data_dir)}))
    try:
        total, ids, offset = index.count(), [], 0
        while offset < total:
            hits = index.search(MatchAll(), limit=500, offset=offset).hits
            if not hits:
                break
            ids.extend(h.id for h in hits)
            offset += len(hits)
        return ids
    finally:
        index.close()


def _recovery_lines(stderr: str) -> list[str]:
    return [line.removeprefix("[osintel] ") for line in stderr.splitlines()
            if line.startswith(("[osintel] recovered run", "[osintel] released ", "[osintel] sealed "))]


def _demo_site(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``osintel demo-site`` in its own process; its log (with the resets the kills cause) is kept."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (work / "demo-site.log").open("wb")
    proc = subprocess.Popen(OSINTEL + ["demo-site", "--port", str(port), "--data-dir", str(work / "site")],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return proc.poll() is not None
    _wait_for(up, 60)
    if proc.poll() is not None:
        raise SystemExit(f"the demo site did not start: see {work / 'demo-site.log'}")
    return proc, base


def run(kills: int, only: list[str], seed: int, work: Path) -> dict[str, Any]:
    site, base = _demo_site(work)
    try:
        campaign = Campaign(work, base, kills=kills, only=only, seed=seed)
        started = time.monotonic()
        reference = campaign.reference()
        report: dict[str, Any] = {"kills_per_phase": kills, "seed": seed, "sources": only or "all",
                                  "reference_documents": len(reference), "phases": {}}
        first = work / "crawl-enrich"
        phase = campaign.crawl_phase(first)
        report["phases"]["crawl"] = {**phase, **campaign.check(first, reference, indexed=False)}
        phase = campaign.enrich_phase(first)
        report["phases"]["enrich"] = {**phase, **campaign.check(first, reference, indexed=True)}
        second = work / "run"
        phase = campaign.run_phase(second)
        report["phases"]["run"] = {**phase, **campaign.check(second, reference, indexed=True)}
        report["seconds"] = round(time.monotonic() - started, 1)
    finally:
        site.terminate()
        site.wait(timeout=30)
    report["problems"] = {name: sum(p.get(name, 0) for p in report["phases"].values()) for name in PROBLEMS}
    report["ok"] = not any(report["problems"].values()) and all(
        p["final_exit"] == 0 for p in report["phases"].values())
    return report


def _print(report: dict[str, Any]) -> None:
    print(f"kill campaign: {report['kills_per_phase']} kills per phase, seed {report['seed']},"
          f" sources {report['sources']}, {report['reference_documents']} reference documents,"
          f" {report['seconds']}s")
    keys = ["kills", "kills_mid_work", "final_exit", "documents", "indexed", *PROBLEMS, "recovered_runs",
            "sealed_warcs", "warcs_with_unfinished_record", "released_lease_events", "warc_files"]
    names = list(report["phases"])
    print(f"{'':<28}" + "".join(f"{n:>10}" for n in names))
    for key in keys:
        print(f"{key:<28}" + "".join(f"{str(report['phases'][n].get(key, '-')):>10}" for n in names))
    print("OK: all problem counts are zero" if report["ok"] else f"PROBLEMS: {report['problems']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per phase (default 20)")
    parser.add_argument("--source", action="append", default=[], metavar="ID",
                        help="only these demo sources (repeatable; default: all nine)")
    parser.add_argument("--seed", type=int, default=12, help="random seed for the kill moments")
    parser.add_argument("--work-dir", help="keep the data directories and logs here (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    if args.work_dir:
        work = Path(args.work_dir).resolve()
        work.mkdir(parents=True, exist_ok=True)
        report = run(args.kills, args.source, args.seed, work)
    else:
        with tempfile.TemporaryDirectory(prefix="osintel-kill-") as tmp:
            report = run(args.kills, args.source, args.seed, Path(tmp))
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        _print(report)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
