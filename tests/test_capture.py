"""``osintel capture`` and ``osintel warc verify`` through the real CLI, against a loopback server.

The capture run is the analyst's "capture this before it is deleted": WARC evidence, extraction,
enrichment and indexing, all before the command returns.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from osintel.records import Document
from osintel.store import ControlStore

OSINTEL = [sys.executable, "-m", "osintel"]
STORY = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Drugs line run from Liverpool flat, court told | Mersey Courier</title></head>
<body><nav><a href="/">Home</a> <a href="/crime/">Crime</a></nav>
<article><h1>Drugs line run from Liverpool flat, court told</h1>
<p>Detective Sergeant Helen Marsh told Liverpool Crown Court that John Carter ran a county lines
operation from a flat in Toxteth, sending teenagers to Blackpool with heroin and crack cocaine.</p>
<p>Messages advertising the drugs were sent from the phone number 07911 123456 to hundreds of users
every morning, the jury heard. Carter, 34, denies conspiracy to supply class A drugs.</p>
<p>The trial continues on Monday, when a former runner is expected to give evidence.</p>
</article><footer>Mersey Courier</footer></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append(self.path)
        status, body = (200, STORY) if self.path == "/story.html" else (404, b"not found")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@dataclass
class Captures:
    data_dir: Path
    sources: Path
    url: str
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    search: subprocess.CompletedProcess[str]
    verify: subprocess.CompletedProcess[str]


def _osintel(args: list[str], data_dir: Path, sources: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSINTEL_CRAWL_AUTOTHROTTLE": "false", "OSINTEL_CRAWL_RETRY_TIMES": "0"}
    return subprocess.run([*OSINTEL, *args, "--data-dir", str(data_dir), "--sources", str(sources),
                           "--log-level", "WARNING"], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def captures(server: str, tmp_path_factory: pytest.TempPathFactory) -> Captures:
    root = tmp_path_factory.mktemp("capture")
    sources = root / "sources.yaml"
    # The SSRF guard lets a capture reach loopback only through the sources file's allow-list.
    sources.write_text(f"allow_private_hosts: ['{server}']\nsources: []\n")
    data_dir = root / "data"
    url = f"http://{server}/story.html"
    first = _osintel(["capture", url, "--json"], data_dir, sources)
    search = _osintel(["search", '"John Carter"', "--json"], data_dir, sources)
    second = _osintel(["capture", url], data_dir, sources)
    verify = _osintel(["warc", "verify", "--json"], data_dir, sources)
    return Captures(data_dir, sources, url, first, second, search, verify)


def _first_doc(captures: Captures) -> Document:
    assert captures.first.returncode == 0, captures.first.stderr[-3000:]
    lines = captures.first.stdout.splitlines()
    assert len(lines) == 1
    return Document.from_json(lines[0])


def test_capture_prints_enriched_documents_with_the_sha256_of_the_bytes_sent(captures: Captures) -> None:
    doc = _first_doc(captures)
    assert doc.url == captures.url and doc.source.id == "capture"
    assert doc.grading is not None and doc.grading.code == "2CP"
    assert doc.language == "en" and doc.is_enriched
    assert {"PERSON", "PHONE"} <= {e.label for e in doc.entities}
    assert doc.capture is not None and doc.capture.http_status == 200
    assert doc.capture.sha256 == hashlib.sha256(STORY).hexdigest()
    assert doc.capture.ip_address == "127.0.0.1"
    assert doc.capture.warc_file is not None and (captures.data_dir / doc.capture.warc_file).is_file()


def test_captured_document_is_searchable_at_once(captures: Captures) -> None:
    assert captures.search.returncode == 0, captures.search.stderr[-2000:]
    hits = json.loads(captures.search.stdout)["hits"]
    assert _first_doc(captures).id in {h["id"] for h in hits}


def test_a_second_capture_of_the_same_url_writes_new_evidence_and_keeps_one_document(
        captures: Captures) -> None:
    first = _first_doc(captures)
    assert captures.second.returncode == 0, captures.second.stderr[-3000:]
    doc_id, status, sha, warc_file, url = captures.second.stdout.split()
    assert (doc_id, status, url) == (first.id, "200", captures.url)
    assert sha == f"sha256={first.capture.sha256}" and warc_file != first.capture.warc_file  # type: ignore[union-attr]
    with ControlStore(captures.data_dir / "osintel.sqlite3") as store:
        assert store.count_documents() == 1
        stored = store.get_document(first.id)
    assert stored is not None and stored.capture is not None and stored.is_enriched
    assert stored.capture.record_id != first.capture.record_id  # type: ignore[union-attr]
    assert [c["record_id"] for c in stored.extra["previous_captures"]] == [first.capture.record_id]  # type: ignore[union-attr]


def test_warc_verify_passes_on_fresh_captures_and_warcio_check_accepts_them(captures: Captures) -> None:
    assert captures.verify.returncode == 0, captures.verify.stdout + captures.verify.stderr[-2000:]
    report = json.loads(captures.verify.stdout)
    assert report["ok"] and report["files"] == 2 and report["documents_checked"] == 2
    for path in (captures.data_dir / "warc").glob("*.warc.gz"):
        check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
                               capture_output=True, text=True)
        assert check.returncode == 0 and "digest pass" in check.stdout, check.stdout + check.stderr


def test_warc_verify_fails_when_a_document_hash_does_not_match_its_record(captures: Captures) -> None:
    doc = _first_doc(captures)
    with ControlStore(captures.data_dir / "osintel.sqlite3") as store:
        stored = store.get_document(doc.id)
        assert stored is not None and stored.capture is not None
        store.save_documents([stored.model_copy(update={
            "capture": stored.capture.model_copy(update={"sha256": "f" * 64})})])
    try:
        out = _osintel(["warc", "verify"], captures.data_dir, captures.sources)
        assert out.returncode == 1
        assert "MISMATCH" in out.stdout and "document-sha256" in out.stdout
        assert stored.capture.record_id is not None and stored.capture.record_id in out.stdout
        assert doc.id in out.stdout
    finally:
        with ControlStore(captures.data_dir / "osintel.sqlite3") as store:
            store.save_documents([stored])


def test_capture_of_a_missing_page_exits_1_and_says_why(captures: Captures, server: str) -> None:
    out = _osintel(["capture", f"http://{server}/gone.html", "--json"], captures.data_dir, captures.sources)
    assert out.returncode == 1
    assert out.stdout == ""
    assert f"could not capture http://{server}/gone.html: the server answered HTTP 404" in out.stderr
