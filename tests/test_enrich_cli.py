"""Stateless use: ``osintel enrich --input IN.jsonl --output -`` through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from osintel.service.enrich_stream import document_from_line

STORY = (
    "Detectives said Marcus Doyle, 31, was arrested in Birmingham after officers stopped a van, AB12 CDE. "
    "The county lines gang used the deal line 07911 123456 and cuckooed a flat in Walsall. "
    "Officers recovered 2kg of crack cocaine and £14,000 in cash, and three teenagers aged 15, 16 and "
    "17 were safeguarded. Doyle will appear at Wolverhampton Crown Court on 14 April."
)


def test_enrich_cli_round_trips_json_lines_in_order_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "p-1", "text": STORY, "title": "Gang leader arrested"}),
        "{not json",
        json.dumps({"id": "p-2", "text": "Les passeurs organisaient des traversées de la Manche depuis Calais.",
                    "published_at": "2026-03-01T09:00:00+01:00", "language": "fr"}),
        "",
        json.dumps({"text": "no id here"}),
        json.dumps({"id": "p-3", "text": "Sign up to our newsletter. " + STORY, "source": "partner-x"}),
        json.dumps({"id": "p-4", "text": "x", "colour": "red"}),
    ]
    infile = tmp_path / "in.jsonl"
    infile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data_dir = tmp_path / "no-data-dir"
    env = {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "osintel", "enrich", "--input", str(infile), "--output", "-"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)

    assert proc.returncode == 1, proc.stderr[-3000:]  # bad lines make the run fail, at the end
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [d["id"] for d in out] == ["p-1", "p-2", "p-3"]  # input order, bad lines left out
    first, french, copy = out
    assert first["url"] == "urn:osintel:input:p-1" and first["source"]["id"] == "input"
    assert first["title"] == "Gang leader arrested" and first["text"] == STORY
    assert {"drugs.county_lines", "drugs.cuckooing"} <= {m["id"] for m in first["methods"]}
    assert first["enrichment"]["methods"] and first["enrichment"]["dedup"]
    assert french["language"] == "fr" and french["published_at"].startswith("2026-03-01T08:00:00")
    assert copy["source"]["id"] == "partner-x"
    assert (copy["duplicate_of"], copy["cluster_id"]) == ("p-1", "p-1")  # clustered within the run
    # Bad lines are named by number on stderr, with progress; nothing was written to disk.
    assert f"{infile}:2: not valid JSON" in proc.stderr
    assert f"{infile}:5: 'id' must be a non-empty string" in proc.stderr
    assert f"{infile}:7:" in proc.stderr and "colour" in proc.stderr
    assert "[osintel] enriched 3 document(s); 3 invalid line(s)" in proc.stderr
    assert not data_dir.exists()
    # The output reads back as the same documents.
    for line in proc.stdout.splitlines():
        assert document_from_line(line).to_json() == json.dumps(json.loads(line), separators=(",", ":"),
                                                                  ensure_ascii=False)


@pytest.mark.parametrize("line,reason", [
    ("[1, 2]", "expected a JSON object"),
    ('{"id": "", "text": "t"}', "'id' must be a non-empty string"),
    ('{"id": "a"}', "'text' must be a string"),
    ('{"id": "a", "text": "t", "published_at": "yesterday"}', "published_at"),
])
def test_a_line_that_is_not_a_document_says_why(line: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        document_from_line(line)
