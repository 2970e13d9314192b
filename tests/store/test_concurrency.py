"""Processes writing one PostgreSQL store at once: what SQLite's single writer made safe must stay
safe when writers really run side by side (the oversight record's chain, storing a document two
crawlers found at the same moment).

Every test starts its processes at one agreed instant so their writes overlap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from osintel import audit
from osintel.store import ControlStore


def _run_together(script: str, args: list[list[str]], *, timeout: float = 240) -> list[str]:
    """Run ``script`` once per argument list, all starting at the same instant; their stdouts."""
    start = str(time.time() + 3.0)
    procs = [subprocess.Popen([sys.executable, "-c", script, start, *a], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for a in args]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err[-3000:]
        outs.append(out)
    return outs


APPENDER = """
import sys, time
from osintel import audit
from osintel.store import ControlStore
start, path, url, name = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with ControlStore(path, url=url) as store:
    time.sleep(max(0.0, start - time.time()))
    for n in range(50):
        audit.log_event(store, actor=name, action="consultation", detail={"kind": "search", "n": n})
"""


def test_four_processes_appending_to_the_oversight_record_at_once_keep_one_verifiable_chain(
    tmp_path: Path, pg_url: str
) -> None:
    path = tmp_path / "data" / "osintel.sqlite3"
    ControlStore(path, url=pg_url).close()  # migrated once, before the race
    _run_together(APPENDER, [[str(path), pg_url, f"proc-{p}"] for p in range(4)])
    with ControlStore(path, url=pg_url) as store:
        report = audit.verify(store)
        assert report.ok, report.to_dict()
        assert report.events == 200
        by_actor = {r["actor"]: int(r["n"]) for r in
                    store.read("SELECT actor, COUNT(*) AS n FROM audit_log GROUP BY actor")}
        assert by_actor == {f"proc-{p}": 50 for p in range(4)}

