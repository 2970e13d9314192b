"""The kill -9 campaign, small: one SIGKILL each of `osintel crawl`, `osintel enrich` and
`osintel run` (bench/kill_campaign.py, real processes against the demo site), then nothing is lost,
duplicated or left stuck. ``python bench/kill_campaign.py`` runs the full campaign (20 kills each).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "kill_campaign.py"


def test_one_kill_each_of_crawl_enrich_and_run_loses_duplicates_and_strands_nothing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--kills", "1", "--source", "demo-news", "--source", "social-telegram",
         "--seed", "12", "--work-dir", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=1800,
    )
    assert proc.stdout, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["problems"] == {name: 0 for name in report["problems"]}, report
    assert report["ok"] and proc.returncode == 0
    crawl, enrich, run = (report["phases"][p] for p in ("crawl", "enrich", "run"))
    assert report["reference_documents"] > 0 and crawl["documents"] == enrich["indexed"] == run["indexed"]
    # The kills landed mid-work, so the recovery path ran: a dead crawl closed and its WARC
    # sealed, a dead worker's leases released.
    assert crawl["kills_mid_work"] == 1 and crawl["recovered_runs"] >= 1 and crawl["sealed_warcs"] >= 1
    assert enrich["kills_mid_work"] == 1 and enrich["released_lease_events"] >= 1
    assert run["kills"] == 1 and run["final_exit"] == 0
