"""``osintel export`` on the command line: files, the JSON report, the gate and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from osintel import audit
from osintel.cli import run

from .conftest import C_MARKER


def _run(settings, capsys, *args: str) -> tuple[int, str, str]:
    code = run(["export", "--data-dir", str(settings.data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_export_writes_stix_and_prints_a_json_report(corpus, settings, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bundle.json"
    code, stdout, stderr = _run(settings, capsys, "--format", "stix", "--query", "method:drugs.*",
                                "--output", str(out), "--recipient", "NCA", "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["count"] == 3 and report["withheld"] == 1 and report["output"] == str(out)
    bundle = json.loads(out.read_text())
    assert sum(o["type"] == "report" for o in bundle["objects"]) == 3
    assert C_MARKER not in out.read_text()
    event = audit.events(corpus[0], action="disclosure")[-1]
    assert event.detail["recipient"] == "NCA" and event.actor.startswith("cli:")


def test_cli_includes_c_documents_only_when_asked_with_a_purpose(corpus, settings, tmp_path: Path, capsys) -> None:
    out = tmp_path / "all.ndjson"
    code, _, stderr = _run(settings, capsys, "--format", "ndjson", "--query", "*", "--output", str(out),
                           "--recipient", "NCA", "--include-conditional")
    assert code == 1 and "purpose" in stderr and not out.exists()
    code, _, _ = _run(settings, capsys, "--format", "ndjson", "--query", "*", "--output", str(out),
                      "--recipient", "NCA", "--include-conditional", "--purpose", "Op Trident")
    assert code == 0 and len(out.read_text().splitlines()) == 6


def test_cli_reports_withheld_documents_on_stderr(corpus, settings, tmp_path: Path, capsys) -> None:
    code, stdout, stderr = _run(settings, capsys, "--format", "csv", "--query", "*",
                                "--output", str(tmp_path / "x.csv"), "--recipient", "NCA")
    assert code == 0 and "5 documents" in stdout and "1 handling-code C documents withheld" in stderr


def test_cli_writes_a_misp_feed_directory(corpus, settings, tmp_path: Path, capsys) -> None:
    feed = tmp_path / "feed"
    code, _, stderr = _run(settings, capsys, "--format", "misp-feed", "--query", "*", "--output", str(feed),
                           "--recipient", "MISP community")
    assert code == 0, stderr
    assert (feed / "manifest.json").is_file() and (feed / "hashes.csv").is_file()
    assert len(list(feed.glob("*.json"))) == 6  # five events and the manifest
    code, _, stderr = _run(settings, capsys, "--format", "misp-feed", "--query", "*", "--output", str(feed),
                           "--recipient", "MISP community")
    assert code == 1 and "not an empty directory" in stderr


def test_cli_bad_query_exits_2(corpus, settings, tmp_path: Path, capsys) -> None:
    code, _, stderr = _run(settings, capsys, "--format", "csv", "--query", "method:(",
                           "--output", str(tmp_path / "x.csv"), "--recipient", "NCA")
    assert code == 2 and "bad query" in stderr


def test_cli_unknown_format_names_the_known_ones(corpus, settings, tmp_path: Path, capsys) -> None:
    code, _, stderr = _run(settings, capsys, "--format", "pdf", "--query", "*",
                           "--output", str(tmp_path / "x.pdf"), "--recipient", "NCA")
    assert code == 1 and "unknown export format 'pdf'" in stderr and "stix" in stderr
